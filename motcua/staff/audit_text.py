"""The audit log as staff read it: «Sửa tài khoản thuha — Vai trò: Cán bộ → Quản trị», not JSON.

Staff-facing (the admin page): the words stay here, next to the actions they name. Each entry
keeps its raw ``before``/``after`` for the page's «Chi tiết» toggle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from knowledge_base.curation.history import describe_value, readable_changes

ACTION_LABELS: dict[str, str] = {
    "auth.login": "Đăng nhập",
    "user.create": "Tạo tài khoản",
    "user.update": "Sửa tài khoản",
    "user.unlock": "Mở khóa tài khoản",
    "user.password": "Đặt lại mật khẩu",
    "user.locked": "Tạm khóa tài khoản (đăng nhập sai nhiều lần)",
    "kb.procedure.create": "Tạo thủ tục",
    "kb.procedure.update": "Sửa thủ tục",
    "kb.procedure.revert": "Khôi phục thủ tục",
    "kb.synonym.add": "Thêm từ đồng nghĩa",
    "kb.synonym.update": "Sửa từ đồng nghĩa",
    "kb.synonym.delete": "Xóa từ đồng nghĩa",
    "kb.synonym.revert": "Khôi phục từ đồng nghĩa",
    "kb.faq.add": "Thêm câu hỏi thường gặp",
    "kb.faq.update": "Sửa câu hỏi thường gặp",
    "kb.faq.delete": "Xóa câu hỏi thường gặp",
    "kb.faq.revert": "Khôi phục câu hỏi thường gặp",
    "kb.legal.update": "Sửa thông tin văn bản pháp luật",
    "kb.legal.upload": "Tải lên văn bản pháp luật",
    "kb.legal.revert": "Khôi phục thông tin văn bản pháp luật",
    "faq.add": "Thêm câu hỏi thường gặp",
    "nlu.add_example": "Thêm câu mẫu cho trợ lý",
    "unanswered.link": "Gắn câu hỏi chưa trả lời với thủ tục",
    "unanswered.dismiss": "Bỏ qua câu hỏi chưa trả lời",
    "unanswered.faq": "Trả lời câu hỏi bằng mục hỏi đáp",
    "unanswered.training": "Dùng câu hỏi làm câu mẫu",
    "handoff.close": "Trả cuộc trò chuyện lại cho trợ lý ảo",
    "dossier.view.detail": "Xem hồ sơ",
    "dossier.view.attachment": "Xem giấy tờ của hồ sơ",
    "dossier.view.receipt": "In giấy tiếp nhận",
    "dossier.view.declaration": "Xem tờ khai của hồ sơ",
    "dossier.links_revoked": "Thu hồi đường dẫn tải tờ khai",
    "dossier.pin_reissued": "Cấp mã tra cứu mới",
    "center.add": "Thêm trung tâm",
    "device.add": "Đăng ký thiết bị",
    "device.revoke": "Thu hồi khóa thiết bị",
    "widget.origin.add": "Cho phép trang gắn trợ lý",
    "widget.origin.remove": "Bỏ trang khỏi danh sách gắn trợ lý",
    "model.register": "Ghi nhận mô hình mới",
    "model.promote": "Đưa mô hình vào sử dụng",
    "model.rollback": "Quay lại mô hình trước",
    "training.start": "Bắt đầu huấn luyện lại",
}

TARGET_WORDS: dict[str, str] = {
    "user": "tài khoản", "procedure": "thủ tục", "synonym": "từ đồng nghĩa #", "faq": "hỏi đáp",
    "legal": "văn bản #", "dossier": "hồ sơ", "device": "thiết bị", "widget_origin": "trang", "model": "mô hình #",
    "center": "trung tâm",
    "training": "lượt huấn luyện #", "unanswered": "câu hỏi #", "handoff": "cuộc trò chuyện #", "nlu": "ý định",
}

FIELD_LABELS: dict[str, str] = {
    "username": "Tên đăng nhập", "full_name": "Họ tên", "role": "Vai trò", "center_code": "Mã trung tâm",
    "active": "Hoạt động", "locked_until": "Khóa đến", "last_login_at": "Đăng nhập gần nhất", "id": "Mã số",
    "kind": "Loại", "key_hint": "Khóa (mấy ký tự đầu)", "status": "Trạng thái", "procedure_code": "Thủ tục",
    "intent": "Ý định", "text": "Câu mẫu", "promote_if_better": "Tự đưa vào dùng nếu đạt", "revoked": "Số đường dẫn",
    "what": "Nội dung xem", "attachment_id": "Giấy tờ số", "label": "Tên giấy tờ",
    "code": "Mã", "name": "Tên", "short_name": "Tên ngắn", "address": "Địa chỉ", "phone": "Điện thoại",
    "hours": "Giờ làm việc", "agency_code": "Mã cơ quan",
}
MODEL_LABELS: dict[str, str] = {"active": "Mô hình đang dùng", "file": "Tệp mô hình", "status": "Kết quả"}

VALUE_LABELS: dict[str, dict[Any, str]] = {
    "role": {"admin": "Quản trị", "staff": "Cán bộ"},
    "kind": {"kiosk": "Kiosk", "printer": "Máy in phiếu", "board": "Bảng hiển thị"},
    "status": {"open": "Đang chờ", "linked": "Đã gắn thủ tục", "dismissed": "Đã bỏ qua", "faq": "Đã thêm hỏi đáp",
               "training": "Đã thêm câu mẫu", "closed": "Đã đóng", "new": "Chưa xử lý", "promoted": "Đã đưa vào dùng",
               "passed": "Đạt (chưa dùng)", "refused": "Không đạt", "candidate": "Ứng viên"},
}
MAX_LINES = 12


def target_text(target: str) -> str:
    """``user:thuha`` → «tài khoản thuha»; ``model:3`` → «mô hình #3»."""
    kind, _, key = (target or "").partition(":")
    word = TARGET_WORDS.get(kind)
    if word is None or not key:
        return target or ""
    return f"{word}{key}" if word.endswith("#") else f"{word} {key}"


def _shown(state: Mapping[str, Any] | None, action: str) -> dict[str, Any] | None:
    if state is None:
        return None
    if not isinstance(state, Mapping):
        return {"": state}
    model = action.startswith("model.")
    shown: dict[str, Any] = {}
    for key, value in state.items():
        if model and key == "active" and value is not None:
            value = f"#{value}"
        shown[key] = VALUE_LABELS.get(key, {}).get(value, value) if isinstance(value, str | bool) else value
    return shown


def audit_lines(action: str, before: Any, after: Any) -> list[str]:
    """The entry's changes, one line each: «Vai trò: Cán bộ → Quản trị»; a new thing's values as
    «Tên đăng nhập: thuha»; at most :data:`MAX_LINES` lines (the rest under «Chi tiết»)."""
    labels = {**FIELD_LABELS, **(MODEL_LABELS if action.startswith("model.") else {})}
    old, new = _shown(before, action), _shown(after, action)
    if old is None or new is None:  # created or removed: list the values that are there
        state = new if new is not None else old
        lines = [f"{labels.get(k, k)}: {describe_value(v)}" for k, v in (state or {}).items()
                 if v not in (None, "", [], {})]
        if action.startswith("kb.procedure") and state and "name" in state:  # a whole procedure
            lines = [f"Tên thủ tục: {state['name']}"]
    else:
        lines = [c["line"] for c in readable_changes(old, new, labels)]
    if len(lines) > MAX_LINES:
        lines = [*lines[:MAX_LINES], f"… và {len(lines) - MAX_LINES} thay đổi khác (xem «Chi tiết»)"]
    return lines


def action_text(action: str) -> str:
    """What was done, in words; an action nobody named yet shows as it is."""
    return ACTION_LABELS.get(action, action)


def readable_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An audit entry as the admin page shows it: the raw fields, plus ``summary`` and ``lines``."""
    action = str(entry.get("action") or "")
    words = action_text(action)
    kind, _, key = str(entry.get("target") or "").partition(":")
    noun = TARGET_WORDS.get(kind, "").rstrip("# ")
    if noun and key and noun in words:  # «Sửa tài khoản» + user:thuha → «Sửa tài khoản thuha»
        target = f"#{key}" if TARGET_WORDS[kind].endswith("#") else key
    else:
        target = target_text(str(entry.get("target") or ""))
    summary = f"{words} {target}".strip()
    return {**entry, "summary": summary, "lines": audit_lines(action, entry.get("before"), entry.get("after"))}
