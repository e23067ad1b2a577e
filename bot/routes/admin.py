"""Admin pages and APIs: accounts, the audit log, retraining, the model registry and rollback.
Every route depends on :func:`bot.auth.require_admin`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import desc, func, select
from starlette.concurrency import run_in_threadpool

from bot.auth import AccountError, Admin, create_user, record_audit
from bot.deps import DatabaseDep, ModelLoaderDep, SettingsDep, TrainingDep
from bot.routes.staff import in_db, page
from motcua import training
from motcua.staff.accounts import set_password
from motcua.staff.audit_text import readable_entry
from motcua.staff.models import ROLES, AuditEntry, ModelVersion, StaffUser

router = APIRouter(tags=["admin"])


@router.get("/admin", response_class=HTMLResponse, summary="Trang quản trị / admin page")
async def admin_page(settings: SettingsDep, _: Admin) -> HTMLResponse:
    return page(settings, "admin.html")


# --- accounts ------------------------------------------------------------------------------------

def _user(u: StaffUser) -> dict[str, Any]:
    return {"id": u.id, "username": u.username, "full_name": u.full_name, "role": u.role,
            "center_code": u.center_code, "active": u.active, "locked_until": u.locked_until.isoformat()
            if u.locked_until else None, "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None}


class UserIn(BaseModel):
    username: str = Field(..., min_length=2, max_length=64)
    password: str = Field(..., min_length=1, max_length=256)
    role: str = Field("staff", pattern="^(staff|admin)$")
    full_name: str = Field("", max_length=255)
    center_code: str = Field("", max_length=64)


class UserChange(BaseModel):
    role: str | None = Field(None, pattern="^(staff|admin)$")
    active: bool | None = None
    full_name: str | None = Field(None, max_length=255)
    center_code: str | None = Field(None, max_length=64)


class PasswordIn(BaseModel):
    password: str = Field(..., min_length=1, max_length=256)


def _account_error(exc: AccountError) -> HTTPException:
    return HTTPException(400, str(exc))


@router.get("/api/v1/admin/users", summary="Danh sách tài khoản")
async def users(database: DatabaseDep, _: Admin) -> list[dict]:
    return await in_db(database, lambda s: [_user(u) for u in s.scalars(select(StaffUser).order_by(StaffUser.username))])


@router.post("/api/v1/admin/users", status_code=201, summary="Tạo tài khoản")
async def add_user(body: UserIn, database: DatabaseDep, principal: Admin) -> dict:
    def work(session):
        try:
            return _user(create_user(session, body.username, body.password, role=body.role, full_name=body.full_name,
                                     center_code=body.center_code, actor=principal.username))
        except AccountError as exc:
            raise _account_error(exc) from exc

    return await in_db(database, work)


def _get_user(session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise HTTPException(404, "Không tìm thấy tài khoản.")
    return user


@router.post("/api/v1/admin/users/{user_id}", summary="Đổi vai trò, kích hoạt/vô hiệu hóa tài khoản")
async def change_user(user_id: int, body: UserChange, database: DatabaseDep,
                      principal: Admin) -> dict:
    def work(session):
        user = _get_user(session, user_id)
        before = _user(user)
        if body.role is not None:
            user.role = body.role
        if body.active is not None:
            user.active = body.active
        if body.full_name is not None:
            user.full_name = body.full_name
        if body.center_code is not None:
            user.center_code = body.center_code
        session.flush()
        admins = session.scalar(select(func.count()).select_from(StaffUser)
                                .where(StaffUser.role == "admin", StaffUser.active.is_(True)))
        if not admins:
            raise HTTPException(400, "Phải còn ít nhất một quản trị viên đang hoạt động.")
        record_audit(session, principal.username, "user.update", f"user:{user.username}", before, _user(user))
        return _user(user)

    return await in_db(database, work)


@router.post("/api/v1/admin/users/{user_id}/password", summary="Đặt lại mật khẩu")
async def reset_password(user_id: int, body: PasswordIn, database: DatabaseDep,
                         principal: Admin) -> dict:
    def work(session):
        user = _get_user(session, user_id)
        try:
            set_password(session, user, body.password, actor=principal.username)
        except AccountError as exc:
            raise _account_error(exc) from exc
        return _user(user)

    return await in_db(database, work)


@router.post("/api/v1/admin/users/{user_id}/unlock", summary="Mở khóa tài khoản")
async def unlock(user_id: int, database: DatabaseDep, principal: Admin) -> dict:
    def work(session):
        user = _get_user(session, user_id)
        before = _user(user)
        user.locked_until, user.failed_attempts = None, 0
        record_audit(session, principal.username, "user.unlock", f"user:{user.username}", before, _user(user))
        return _user(user)

    return await in_db(database, work)


@router.get("/api/v1/admin/audit", summary="Nhật ký thay đổi / audit log")
async def audit(database: DatabaseDep, _: Admin, limit: int = Query(200, ge=1, le=2000),
                actor: str = Query("", max_length=64)) -> list[dict]:
    def work(session):
        query = select(AuditEntry).order_by(desc(AuditEntry.id)).limit(limit)
        if actor:
            query = query.where(AuditEntry.actor == actor)
        return [readable_entry({"id": e.id, "actor": e.actor, "action": e.action, "target": e.target,
                                "before": e.before, "after": e.after, "created_at": e.created_at.isoformat()})
                for e in session.scalars(query)]

    return await in_db(database, work)


# --- training and models -------------------------------------------------------------------------

class TrainIn(BaseModel):
    promote_if_better: bool = True
    note: str = Field("", max_length=500)


@router.post("/api/v1/admin/training", status_code=202, summary="Huấn luyện lại (chạy nền) / retrain in background")
async def start_training(body: TrainIn, settings: SettingsDep, loader: ModelLoaderDep, options: TrainingDep,
                         principal: Admin) -> dict:
    root = options.project_root
    req = training.TrainingRequest(actor=principal.username, promote_if_better=body.promote_if_better,
                                   note=body.note, tolerance=options.tolerance,
                                   **({"project_root": root} if root else {}))
    try:
        run_id = await run_in_threadpool(training.start_training, settings, req, loader)
    except training.TrainingProblem as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"run_id": run_id}


@router.get("/api/v1/admin/training", summary="Các lượt huấn luyện")
async def training_runs(settings: SettingsDep, _: Admin) -> list[dict]:
    return await run_in_threadpool(training.list_runs, settings)


@router.get("/api/v1/admin/training/{run_id}", summary="Tiến độ và nhật ký một lượt huấn luyện")
async def training_run(run_id: int, settings: SettingsDep, _: Admin) -> dict:
    run = await run_in_threadpool(training.run_status, settings, run_id)
    if run is None:
        raise HTTPException(404, "Không tìm thấy lượt huấn luyện.")
    return run


def rollback_state(session) -> dict[str, Any]:
    """Whether «Quay lại mô hình trước» can work now, and why not (the same choice as
    :func:`motcua.training.rollback`: the latest earlier active version whose file is still there)."""
    current = session.scalar(select(ModelVersion).where(ModelVersion.status == "active")
                             .order_by(desc(ModelVersion.promoted_at)).limit(1))
    query = select(ModelVersion).where(ModelVersion.status == "previous", ModelVersion.promoted_at.is_not(None))
    if current is not None:
        query = query.where(ModelVersion.id != current.id)
    previous = session.scalar(query.order_by(desc(ModelVersion.promoted_at)).limit(1))
    if previous is None:
        return {"available": False, "target": None,
                "reason": "Chưa có mô hình nào dùng trước mô hình hiện tại, nên chưa thể quay lại."}
    if not Path(previous.path).is_file():
        return {"available": False, "target": previous.id,
                "reason": f"Tệp của mô hình trước (#{previous.id}) không còn trên máy, nên không quay lại được."}
    return {"available": True, "target": previous.id,
            "reason": f"Quay lại mô hình #{previous.id} ({Path(previous.path).name})."}


@router.get("/api/v1/admin/models", summary="Sổ đăng ký mô hình / model registry")
async def models(database: DatabaseDep, loader: ModelLoaderDep, _: Admin) -> dict:
    versions = await in_db(database, lambda s: [training.version_dict(v) for v in training.list_versions(s)])
    state = await in_db(database, rollback_state)
    running = await run_in_threadpool(loader.running_model)
    return {"running": running, "versions": versions, "rollback": state}


@router.post("/api/v1/admin/models/rollback", summary="Quay lại mô hình trước / roll back")
async def rollback(settings: SettingsDep, loader: ModelLoaderDep, principal: Admin) -> dict:
    try:
        version = await run_in_threadpool(lambda: training.rollback(settings, loader,
                                                                    actor=principal.username))
    except training.TrainingProblem as exc:
        raise HTTPException(409, str(exc)) from exc
    return training.version_dict(version)


__all__ = ["ROLES", "router"]


# --- centres (motcua/centers.py) ------------------------------------------------------------

class CenterIn(BaseModel):
    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=255)
    short_name: str = Field("", max_length=128)
    address: str = Field("", max_length=255)
    phone: str = Field("", max_length=32)
    hours: str = Field("", max_length=2000)
    agency_code: str = Field("", max_length=64)


@router.get("/api/v1/admin/centers", summary="Các trung tâm / the centres of this deployment")
async def centers(database: DatabaseDep, _: Admin) -> list[dict]:
    from motcua.centers import list_centers

    return await in_db(database, lambda s: [c.to_dict() for c in list_centers(s)])


@router.post("/api/v1/admin/centers", status_code=201, summary="Thêm trung tâm / add a centre")
async def add_center(body: CenterIn, database: DatabaseDep, principal: Admin) -> dict:
    from motcua.centers import CenterError
    from motcua.centers import add_center as create

    def work(session):
        try:
            center = create(session, body.code, body.name, short_name=body.short_name, address=body.address,
                            phone=body.phone, hours=body.hours, agency_code=body.agency_code,
                            actor=principal.username)
        except CenterError as exc:
            raise HTTPException(400, str(exc)) from exc
        return center.to_dict()

    return await in_db(database, work)


# --- devices: kiosks, ticket printers, display boards ------------------------------------

class DeviceIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=64)
    kind: str = Field(..., pattern="^(kiosk|printer|board)$")
    center: str = Field("default", max_length=32, description="mã trung tâm của thiết bị")


def _device_error(exc: Exception) -> HTTPException:
    from motcua.devices import DeviceNotFound

    return HTTPException(404 if isinstance(exc, DeviceNotFound) else 400, str(exc))


@router.get("/api/v1/admin/devices", summary="Danh sách thiết bị / registered devices")
async def devices(database: DatabaseDep, _: Admin) -> list[dict]:
    from motcua.devices import list_devices

    return await in_db(database, lambda s: [d.to_dict() for d in list_devices(s)])


@router.post("/api/v1/admin/devices", status_code=201, summary="Đăng ký thiết bị (khóa chỉ trả về một lần)")
async def add_device(body: DeviceIn, database: DatabaseDep, principal: Admin) -> dict:
    from motcua.devices import DeviceError
    from motcua.devices import add_device as register

    def work(session):
        try:
            device, key = register(session, body.name, body.kind, actor=principal.username, center=body.center)
        except DeviceError as exc:
            raise _device_error(exc) from exc
        return {"device": device.to_dict(), "key": key}

    return await in_db(database, work)


@router.post("/api/v1/admin/devices/{device_id}/revoke", summary="Thu hồi khóa thiết bị")
async def revoke_device(device_id: int, database: DatabaseDep, principal: Admin) -> dict:
    from motcua.devices import DeviceError
    from motcua.devices import revoke_device as revoke

    def work(session):
        try:
            return revoke(session, device_id, actor=principal.username).to_dict()
        except DeviceError as exc:
            raise _device_error(exc) from exc

    return await in_db(database, work)


# --- sites allowed to embed the web widget ----------------------------------------------------

class WidgetOriginIn(BaseModel):
    origin: str = Field(..., min_length=1, max_length=300, description="vd. https://xa-an-binh.gov.vn")
    note: str = Field("", max_length=255, description="whose site, e.g. UBND xã An Bình")
    center: str = Field("", max_length=64, description="the centre whose own site this is (its widget speaks "
                        "for it only); empty: a site of every centre, whose page names its centre")


def _origin_error(exc: Exception) -> HTTPException:
    from motcua.widget_origins import OriginNotFound

    return HTTPException(404 if isinstance(exc, OriginNotFound) else 400, str(exc))


@router.get("/api/v1/admin/widget-origins", summary="Các trang được gắn trợ lý / sites allowed to embed the widget")
async def widget_origins(database: DatabaseDep, settings: SettingsDep, _: Admin) -> dict:
    """The admin's list, and the addresses the settings allow besides (``MOTCUA_CORS_ORIGINS``, read only)."""
    from motcua.widget_origins import list_origins

    listed = await in_db(database, lambda s: [o.to_dict() for o in list_origins(s)])
    return {"origins": listed, "from_settings": list(settings.cors_origins)}


@router.post("/api/v1/admin/widget-origins", status_code=201, summary="Cho phép một trang gắn trợ lý")
async def add_widget_origin(body: WidgetOriginIn, database: DatabaseDep, principal: Admin) -> dict:
    from motcua.widget_origins import OriginError, add_origin

    def work(session):
        try:
            return add_origin(session, body.origin, actor=principal.username, note=body.note,
                              center=body.center).to_dict()
        except OriginError as exc:
            raise _origin_error(exc) from exc

    return await in_db(database, work)


@router.post("/api/v1/admin/widget-origins/{origin_id}/remove", summary="Bỏ một trang khỏi danh sách được gắn trợ lý")
async def remove_widget_origin(origin_id: int, database: DatabaseDep, principal: Admin) -> dict:
    from motcua.widget_origins import OriginError, remove_origin

    def work(session):
        try:
            return remove_origin(session, origin_id, actor=principal.username).to_dict()
        except OriginError as exc:
            raise _origin_error(exc) from exc

    return await in_db(database, work)
