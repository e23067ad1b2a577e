"""A short fictional decree (not a real text) for the legal tests, and a way to print it as a PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def fictional_decree_lines() -> list[str]:
    """The decree one line per element: chapters, articles, clauses and points."""
    long = (
        "Ủy ban nhân dân cấp xã tiếp nhận hồ sơ, kiểm tra tính đầy đủ của giấy tờ, hướng dẫn người dân "
        "bổ sung ngay trong ngày làm việc và trả kết quả đúng hẹn tại Bộ phận Một cửa của xã, phường"
    )
    lines = [
        "CHÍNH PHỦ",
        "Số: 99/2030/NĐ-CP",
        "Hà Nội, ngày 05 tháng 3 năm 2030",
        "NGHỊ ĐỊNH",
        "Về thử nghiệm tiếp nhận hồ sơ tại Bộ phận Một cửa cấp xã",
        "Căn cứ Luật Tổ chức Chính phủ;",
        "Chính phủ ban hành Nghị định về thử nghiệm tiếp nhận hồ sơ tại Bộ phận Một cửa cấp xã.",
        "Chương I",
        "QUY ĐỊNH CHUNG",
        "Điều 1. Phạm vi điều chỉnh",
        "Nghị định này quy định việc thử nghiệm tiếp nhận, giải quyết hồ sơ tại Bộ phận Một cửa cấp xã.",
        "Việc thử nghiệm kéo dài mười hai tháng.",
        "Điều 2. Đối tượng áp dụng",
        "1. Công dân Việt Nam có yêu cầu giải quyết thủ tục hành chính, gồm:",
        "a) Người cao tuổi, người khuyết tật;",
        "b) Phụ nữ mang thai, người đi cùng trẻ nhỏ dưới 36 tháng tuổi;",
        "c) Người có công với cách mạng;",
        "d) Người nước ngoài thường trú tại Việt Nam;",
        "đ) Người dân tộc thiểu số ở vùng đặc biệt khó khăn.",
        "2. Cán bộ, công chức làm việc tại Bộ phận Một cửa.",
        "Chương II",
        "TIẾP NHẬN VÀ TRẢ KẾT QUẢ",
    ]
    for n in range(3, 13):
        lines += [
            f"Điều {n}. Trình tự bước thứ {n - 2} khi tiếp nhận hồ sơ",
            f"1. {long}, theo quy định tại khoản {n} Điều này.",
            f"2. Trường hợp hồ sơ chưa đầy đủ thì công chức hướng dẫn một lần, đầy đủ bằng phiếu hướng dẫn; "
            f"người dân được nhắc lịch qua tin nhắn trước {n} giờ.",
            "a) Ghi rõ giấy tờ còn thiếu;",
            "b) Ký, ghi rõ họ tên công chức tiếp nhận.",
        ]
    lines += [
        "Chương III",
        "ĐIỀU KHOẢN THI HÀNH",
        "Điều 13. Hiệu lực thi hành",
        "Nghị định này có hiệu lực thi hành từ ngày 01 tháng 5 năm 2030.",
    ]
    return lines


def fictional_decree_text() -> str:
    return "\n".join(fictional_decree_lines())


def make_fpdf():
    """An ``fpdf.FPDF`` with a Vietnamese font and page numbers; skips the test without fpdf or the font."""
    fpdf = pytest.importorskip("fpdf")
    if not DEJAVU.is_file():
        pytest.skip(f"không có phông DejaVu ở {DEJAVU} (font needed for Vietnamese PDF)")

    class NumberedPdf(fpdf.FPDF):
        def footer(self) -> None:
            self.set_y(-15)
            self.cell(0, 10, str(self.page_no()), align="C")

    pdf = NumberedPdf()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=12)
    return pdf


def write_pdf(path: Path, lines: list[str]) -> int:
    """Write ``lines`` as a Vietnamese PDF with page numbers in the footer; the number of pages."""
    pdf = make_fpdf()
    pdf.add_page()
    for line in lines:
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return pdf.page_no()
