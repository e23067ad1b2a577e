"""deploy/compose.yaml: a valid compose structure, no secret in it, and each app container running
exactly the command line ``motcua serve`` starts for that child."""

from __future__ import annotations

import re

import pytest

from tests.deploy.deploy_files import (
    COMPOSE,
    DEPLOY,
    Installation,
    app_services,
    interpolate,
    interpolations,
    known_environment_variables,
    load_compose,
    parse_env_file,
    printed_command,
    serve_one_command,
    service_environment,
    supervisors_command,
)

DOTENV = {
    "POSTGRES_PASSWORD": "pw-from-dotenv",
    "MOTCUA_SECRET_KEY": "k" * 48,
    "SITE_ADDRESS": "motcua.tinh.gov.vn",
}
"""What an operator's deploy/.env holds, for interpolation."""
SERVICE_KEYS = {
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "volumes",
    "ports",
    "depends_on",
    "healthcheck",
    "restart",
    "deploy",
    "networks",
    "init",
    "user",
    "working_dir",
    "labels",
    "logging",
    "stop_grace_period",
    "expose",
}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


def test_compose_file_has_a_valid_structure(compose):
    assert set(compose) <= {"name", "services", "volumes", "networks"} | {
        k for k in compose if k.startswith("x-")
    }
    services = compose["services"]
    assert {"postgres", "redis", "prepare", "rasa", "actions", "gateway", "proxy"} <= set(services)
    declared_volumes = set(compose.get("volumes") or {})
    declared_networks = set(compose.get("networks") or {})
    dockerfile_targets: set[str] = set()
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, f"{name}: unknown keys {set(service) - SERVICE_KEYS}"
        assert "image" in service or "build" in service, name
        if "build" in service:
            dockerfile = (
                COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]
            ).resolve()
            assert dockerfile.is_file(), dockerfile
            dockerfile_targets = set(re.findall(r"^FROM \S+ AS (\S+)$", dockerfile.read_text(), re.MULTILINE))
            assert service["build"]["target"] in dockerfile_targets
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/", "$")):  # a named volume, not a bind mount
                assert source in declared_volumes, f"{name}: volume {source} not declared"
        networks = service.get("networks") or []
        assert set(networks) <= declared_networks, name
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition["condition"] in CONDITIONS
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], (
                    f"{name} waits for {dependency}'s health: it has none"
                )
        if "healthcheck" in service:
            assert service["healthcheck"]["test"][0] == "CMD"
    assert dockerfile_targets, "the app services build the image"


def test_app_services_wait_for_healthy_postgres_and_redis_and_a_finished_prepare(compose):
    apps = app_services(compose)
    assert set(apps) == {"prepare", "rasa", "actions", "gateway"}
    for name, service in apps.items():
        depends = service["depends_on"]
        assert depends["postgres"] == {"condition": "service_healthy"}, name
        assert depends["redis"] == {"condition": "service_healthy"}, name
        if name != "prepare":
            assert depends["prepare"] == {"condition": "service_completed_successfully"}, name
        assert "motcua-data:/var/lib/motcua" in service["volumes"]
    assert compose["services"]["prepare"]["command"] == ["motcua", "prepare"]
    assert compose["services"]["prepare"]["restart"] == "no"
    assert compose["services"]["proxy"]["depends_on"]["gateway"] == {"condition": "service_healthy"}


def test_workers_scale_by_replicas(compose):
    for name in ("rasa", "actions", "gateway"):
        service = compose["services"][name]
        replicas = service["deploy"]["replicas"]
        assert int(interpolate(str(replicas), {})) == 1  # one of each unless .env or --scale says more
        assert int(interpolate(str(replicas), {f"{name.upper()}_REPLICAS": "3"})) == 3
        assert "ports" not in service and "container_name" not in service  # replicas would collide


def test_no_secret_is_written_in_the_compose_file(compose):
    text = COMPOSE.read_text(encoding="utf-8")
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            value = str(value)
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", value), f"{name}: {key} must come from .env"
            for password in re.findall(r"://[^:/@\s]+:(\$\{[^}]*\}|[^@\s]+)@", value):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+(:\?[^}]*)?\}", password), (
                    f"{name}: {key} holds a password"
                )
    # every secret it needs is required from .env, which the example leaves empty
    example = parse_env_file(DEPLOY / ".env.example")
    for secret in ("POSTGRES_PASSWORD", "MOTCUA_SECRET_KEY"):
        assert secret in interpolations(text) and example[secret] == ""
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        service_environment(compose["services"]["prepare"], {**DOTENV, "POSTGRES_PASSWORD": ""})


def test_the_compose_file_sets_only_known_settings(compose):
    known = known_environment_variables()
    used = set()
    for service in compose["services"].values():
        used |= {key for key in service.get("environment") or {} if key.startswith("MOTCUA_")}
    used |= {key for key in parse_env_file(DEPLOY / ".env.example") if key.startswith("MOTCUA_")}
    used |= set(re.findall(r"\b(MOTCUA_[A-Z0-9_]+)=", (DEPLOY / "Dockerfile").read_text(encoding="utf-8")))
    assert used, "the compose file configures the app through MOTCUA_ variables"
    assert sorted(used - known) == []
    # the test itself catches a misspelt one
    assert "MOTCUA_RASA_PROT" not in known and "MOTCUA_INTERNAL_HOST" in known


def test_every_child_of_serve_runs_in_its_own_service(compose, installation: Installation, monkeypatch):
    from motcua.runtime import child_names, serve_settings
    from motcua.settings import Settings

    started = {
        serve_one_command(service): name
        for name, service in app_services(compose).items()
        if serve_one_command(service)
    }
    env = installation.environment(service_environment(compose["services"]["gateway"], DOTENV))
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        expected = child_names(serve_settings(Settings()))
    # the fake national portal is serve's demo only: the compose file turns it off
    assert sorted(started) == sorted(expected) == ["action-server", "gateway", "rasa"]


@pytest.mark.parametrize("service_name", ["rasa", "actions", "gateway"])
def test_each_container_runs_the_supervisors_command_line(
    compose, installation_on_each_database: Installation, monkeypatch, service_name
):
    installation = installation_on_each_database
    service = compose["services"][service_name]
    child = serve_one_command(service)
    assert child is not None
    env = installation.environment(service_environment(service, DOTENV))
    printed = printed_command(child, env)
    assert printed == supervisors_command(child, env, installation.model, monkeypatch)
    if child != "gateway":  # reachable from the other containers, not only from inside its own
        assert "0.0.0.0" in printed
    assert service["healthcheck"]["test"] == ["CMD", "motcua", "serve-one", child, "--check"]


def test_the_proxy_spreads_work_over_the_compose_services(compose, installation: Installation, monkeypatch):
    from motcua.settings import Settings

    caddyfile = (DEPLOY / "caddy" / "Caddyfile").read_text(encoding="utf-8")
    upstreams = dict(re.findall(r"dynamic a (\S+) (\d+)", caddyfile))
    env = installation.environment(service_environment(compose["services"]["gateway"], DOTENV))
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        settings = Settings()
    assert upstreams == {
        "gateway": str(settings.gateway_port),
        "rasa": str(settings.rasa_port),
        "actions": str(settings.action_port),
    }
    sites = dict(re.findall(r"^:(\d+) \{\n\treverse_proxy \{\n\t\tdynamic a (\S+)", caddyfile, re.MULTILINE))
    assert settings.rasa_base_url == f"http://proxy:{next(p for p, s in sites.items() if s == 'rasa')}"
    assert (
        settings.action_webhook_url
        == f"http://proxy:{next(p for p, s in sites.items() if s == 'actions')}/webhook"
    )
    # the gateway believes X-Forwarded-For from the proxy's fixed address only
    proxy_address = compose["services"]["proxy"]["networks"]["motcua"]["ipv4_address"]
    assert settings.trusted_proxies == [interpolate(proxy_address, {})]
    assert "ports" in compose["services"]["proxy"]
    assert all("ports" not in s for n, s in compose["services"].items() if n != "proxy")


def test_both_tls_modes_exist():
    mounted = next(
        v for v in load_compose()["services"]["proxy"]["volumes"] if v.endswith(":/etc/caddy/tls.caddy:ro")
    )
    for mode in ("internal", "certificate"):
        path = COMPOSE.parent / interpolate(mounted, {"TLS_MODE": mode}).split(":")[0]
        assert path.read_text(encoding="utf-8").splitlines()[-1].startswith("tls ")
    assert "tls internal" in (DEPLOY / "caddy" / "internal.caddy").read_text(encoding="utf-8")
    assert "import /etc/caddy/tls.caddy" in (DEPLOY / "caddy" / "Caddyfile").read_text(encoding="utf-8")


def test_the_image_is_built_from_the_lock_files():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"\.venvs/app/bin/pip install -q -r requirements-app\.lock", dockerfile)
    assert re.search(r"\.venvs/rasa/bin/pip install -q -r requirements-rasa\.lock", dockerfile)
    assert "python3.11 -m venv .venvs/app" in dockerfile and "python3.10 -m venv .venvs/rasa" in dockerfile
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert {".venvs", "var", ".env", ".git"} <= set(
        ignored
    )  # no local environment, data or secret in the image
