"""A small synthetic knowledge base for retrieval tests (no shared data needed)."""

from __future__ import annotations

from knowledge_base.schema import FaqEntry, Procedure, RequiredDocument
from retrieval.documents import SearchDocument, faq_to_document, passage_to_document, procedure_to_document

# fmt: off
PROCEDURES = [
    ("1.001193", "Thủ tục đăng ký khai sinh", "Hộ tịch", ["Cấp xã"], ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]),
    ("1.000894", "Thủ tục đăng ký kết hôn", "Hộ tịch", ["Cấp xã"], ["Tờ khai đăng ký kết hôn"]),
    ("2.000806", "Thủ tục đăng ký kết hôn có yếu tố nước ngoài", "Hộ tịch", ["Cấp xã"], ["Tờ khai đăng ký kết hôn"]),
    ("1.000656", "Thủ tục đăng ký khai tử", "Hộ tịch", ["Cấp xã"], ["Tờ khai đăng ký khai tử", "Giấy báo tử"]),
    ("1.004873", "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", ["Cấp xã"], ["Tờ khai cấp Giấy xác nhận tình trạng hôn nhân"]),
    ("1.004222", "Đăng ký thường trú", "Đăng ký, quản lý cư trú", ["Cấp xã"], ["Tờ khai thay đổi thông tin cư trú"]),
    ("1.004194", "Đăng ký tạm trú", "Đăng ký, quản lý cư trú", ["Cấp xã"], ["Tờ khai thay đổi thông tin cư trú"]),
    ("1.014064", "Cấp lại thẻ căn cước", "Cấp, quản lý căn cước", ["Cấp xã"], ["Phiếu đề nghị giải quyết thủ tục về căn cước"]),
    ("1.013225", "Cấp giấy phép xây dựng mới đối với công trình cấp III, cấp IV", "Hoạt động xây dựng", ["Cấp xã"], ["Đơn đề nghị cấp giấy phép xây dựng", "Bản vẽ thiết kế"]),
    ("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực", ["Cấp xã"], ["Bản chính giấy tờ cần chứng thực"]),
    ("1.001612", "Đăng ký thành lập hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", ["Cấp xã"], ["Giấy đề nghị đăng ký hộ kinh doanh"]),
    ("1.001939", "Đăng ký đóng, cấp thẻ BHYT đối với người chỉ tham gia BHYT", "Bảo hiểm y tế", ["Cấp xã", "Cấp tỉnh"], ["Tờ khai tham gia BHYT"]),
    ("1.003658", "Cấp giấy phép khai thác thủy sản", "Thủy sản", ["Cấp tỉnh"], ["Đơn đề nghị cấp giấy phép khai thác thủy sản"]),
    ("1.009456", "Công bố hoạt động cảng thủy nội địa", "Đường thủy nội địa", ["Cấp tỉnh"], ["Đơn đề nghị công bố hoạt động cảng"]),
]
# fmt: on


def make_procedures() -> list[Procedure]:
    return [
        Procedure(
            code=code,
            name=name,
            field=field,
            levels=levels,
            documents=[RequiredDocument(name=d) for d in documents],
            result=name.replace("Thủ tục ", ""),
        )
        for code, name, field, levels, documents in PROCEDURES
    ]


def make_documents() -> list[SearchDocument]:
    documents = [procedure_to_document(p) for p in make_procedures()]
    documents.append(
        faq_to_document(
            FaqEntry(
                question="Mất giấy khai sinh bản gốc thì xin lại ở đâu?",
                answer="Xin cấp bản sao Giấy khai sinh tại Ủy ban nhân dân cấp xã nơi đã đăng ký khai sinh.",
                procedures=("1.001193",),
            )
        )
    )
    documents.append(
        passage_to_document(
            document="60/2014/QH13",
            article="Điều 16",
            clause="1",
            title="Điều 16. Thủ tục đăng ký khai sinh",
            text="Người đi đăng ký khai sinh nộp tờ khai theo mẫu quy định và giấy chứng sinh cho cơ quan đăng ký hộ tịch.",
        )
    )
    documents.append(
        passage_to_document(
            document="68/2020/QH14",
            article="Điều 27",
            title="Điều 27. Điều kiện đăng ký tạm trú",
            text="Công dân đến sinh sống tại chỗ ở hợp pháp ngoài phạm vi đơn vị hành chính cấp xã nơi đã đăng ký thường trú để lao động, học tập từ 30 ngày trở lên thì phải thực hiện đăng ký tạm trú.",
        )
    )
    return documents
