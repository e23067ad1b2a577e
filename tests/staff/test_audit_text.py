"""The audit log in words: what was done to what, and «field: before → after» with labels."""

from __future__ import annotations

from motcua.staff.audit_text import audit_lines, readable_entry, target_text


def test_an_account_change_reads_with_labels_and_value_names():
    entry = readable_entry({"action": "user.update", "target": "user:thuha", "actor": "quantri",
                            "before": {"username": "thuha", "role": "staff", "active": True},
                            "after": {"username": "thuha", "role": "admin", "active": False}})
    assert entry["summary"] == "Sửa tài khoản thuha"
    assert entry["lines"] == ["Vai trò: Cán bộ → Quản trị", "Hoạt động: Có → Không"]
    assert entry["before"]["role"] == "staff"  # the raw state stays, for «Chi tiết»


def test_model_and_new_things_read_plainly():
    assert audit_lines("model.rollback", {"active": 4}, {"active": 3, "file": "m3.tar.gz"}) == [
        "Mô hình đang dùng: #4 → #3", "Tệp mô hình: (trống) → m3.tar.gz"]
    assert audit_lines("device.add", None, {"kind": "printer", "key_hint": "ab12"}) == [
        "Loại: Máy in phiếu", "Khóa (mấy ký tự đầu): ab12"]
    assert audit_lines("kb.procedure.create", None, {"code": "1.1", "name": "Đăng ký khai sinh", "steps": ["a"]}) \
        == ["Tên thủ tục: Đăng ký khai sinh"]
    assert audit_lines("user.password", None, None) == []
    assert (target_text("model:3"), target_text("dossier:H51.1"), target_text("odd")) == (
        "mô hình #3", "hồ sơ H51.1", "odd")


def test_long_changes_are_capped_with_a_pointer_to_the_details():
    before = {f"k{i}": i for i in range(20)}
    after = {f"k{i}": i + 1 for i in range(20)}
    lines = audit_lines("kb.faq.update", before, after)
    assert len(lines) == 13 and lines[-1] == "… và 8 thay đổi khác (xem «Chi tiết»)"


def test_the_summary_names_the_thing_once():
    def summary(action: str, target: str) -> str:
        return readable_entry({"action": action, "target": target, "before": None, "after": None})["summary"]

    assert summary("model.rollback", "model:3") == "Quay lại mô hình trước #3"
    assert summary("dossier.view.receipt", "dossier:H51.1") == "In giấy tiếp nhận hồ sơ H51.1"
    assert summary("something.new", "") == "something.new"


def test_a_new_centre_reads_in_words():
    entry = readable_entry({"action": "center.add", "target": "center:xa-an-binh", "actor": "quantri", "before": None,
                            "after": {"code": "xa-an-binh", "name": "Trung tâm Phục vụ hành chính công xã An Bình",
                                      "hours": "7:30–17:00", "agency_code": "H51.2"}})
    assert entry["summary"] == "Thêm trung tâm xa-an-binh"
    assert "Tên: Trung tâm Phục vụ hành chính công xã An Bình" in entry["lines"]
    assert "Giờ làm việc: 7:30–17:00" in entry["lines"] and "Mã cơ quan: H51.2" in entry["lines"]
