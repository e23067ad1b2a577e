"""Small hand-kept tables of generic Vietnamese: kiosk short-hand, stop-words, folk names.

Nothing here names a single question or a single catalogue code: these are the forms any
commune officer hears every day. Keys are lowercase NFC with classic tone placement
(what :func:`retrieval.normalize.normalize_text` produces). Extend freely; a deployment
can pass its own synonym list (``knowledge_base`` ``Synonym`` rows) to the index.
"""

from __future__ import annotations

from knowledge_base.schema import Synonym

# fmt: off
# Teen-code and common typos, one token → full syllables.
_TEEN_CODE: dict[str, str] = {
    # không / được / gì / rồi / vậy
    "ko": "không", "k": "không", "kg": "không", "kh": "không", "khg": "không", "hok": "không",
    "hông": "không", "hem": "không", "khong": "không", "kô": "không",
    "dc": "được", "đc": "được", "dk": "đăng ký", "đk": "đăng ký", "dky": "đăng ký", "đky": "đăng ký",
    "j": "gì", "ji": "gì", "r": "rồi", "roài": "rồi", "ròi": "rồi", "oy": "rồi",
    "v": "vậy", "z": "vậy", "zậy": "vậy",
    # people
    "e": "em", "c": "chị", "t": "tôi", "m": "mình", "mk": "mình", "ng": "người",
    "ngta": "người ta", "mn": "mọi người", "mng": "mọi người", "ad": "admin", "ae": "anh em",
    "vk": "vợ", "ck": "chồng", "bme": "bố mẹ", "bm": "bố mẹ",
    # little words
    "vs": "với", "bn": "bao nhiêu", "bnh": "bao nhiêu", "bh": "bao giờ", "trc": "trước",
    "lm": "làm", "ms": "mới", "cx": "cũng", "cg": "cũng", "bt": "biết", "bík": "biết", "bít": "biết",
    "hnay": "hôm nay", "hqua": "hôm qua", "ntn": "như thế nào", "thui": "thôi", "wa": "qua",
    "nhìu": "nhiều", "iu": "yêu", "ak": "à", "uk": "ừ", "ok": "được", "oke": "được",
    "sdt": "số điện thoại", "sđt": "số điện thoại", "đt": "điện thoại",
    "tgian": "thời gian", "tg": "thời gian", "hs": "hồ sơ",
    "tp": "thành phố", "q": "quận", "p": "phường", "x": "xã",
    # i / y spellings the catalogue writes with y
    "kí": "ký", "ki": "ky", "lí": "lý", "li": "ly", "qui": "quy", "quí": "quý", "mĩ": "mỹ",
    "kĩ": "kỹ", "kỉ": "kỷ", "sỹ": "sĩ",
}

# Official abbreviations, expanded in documents and queries alike (titles write "BHYT").
ACRONYMS: dict[str, str] = {
    "ubnd": "ủy ban nhân dân", "hđnd": "hội đồng nhân dân", "cccd": "căn cước công dân",
    "cmnd": "chứng minh nhân dân", "bhyt": "bảo hiểm y tế", "bhxh": "bảo hiểm xã hội",
    "bhtn": "bảo hiểm thất nghiệp", "tnlđ": "tai nạn lao động", "bnn": "bệnh nghề nghiệp",
    "bhtnlđ": "bảo hiểm tai nạn lao động", "htx": "hợp tác xã", "tnhh": "trách nhiệm hữu hạn",
    "mtv": "một thành viên", "gtgt": "giá trị gia tăng", "tncn": "thu nhập cá nhân",
    "tndn": "thu nhập doanh nghiệp", "ttđb": "tiêu thụ đặc biệt", "nhnn": "ngân hàng nhà nước",
    "kbnn": "kho bạc nhà nước", "kcb": "khám chữa bệnh", "cqt": "cơ quan thuế",
    "gcn": "giấy chứng nhận", "qsdđ": "quyền sử dụng đất", "qsdd": "quyền sử dụng đất",
    "gpxd": "giấy phép xây dựng", "gplx": "giấy phép lái xe", "đkkd": "đăng ký kinh doanh",
    "dkkd": "đăng ký kinh doanh", "hkd": "hộ kinh doanh", "mst": "mã số thuế",
    "tthc": "thủ tục hành chính", "dvc": "dịch vụ công",
}

# Kiosk short-hand and typos: queries only (documents never write "ko" or "j").
SHORTHAND: dict[str, str] = {
    **_TEEN_CODE,
    **ACRONYMS,
    "cmt": "chứng minh thư", "gks": "giấy khai sinh", "ks": "khai sinh", "đkkh": "đăng ký kết hôn",
    "gpkd": "giấy phép kinh doanh", "hđ": "hợp đồng", "hk": "hộ khẩu", "kd": "kinh doanh",
    "đdđt": "định danh điện tử", "ub": "ủy ban", "cty": "công ty", "dn": "doanh nghiệp",
}

# fmt: on

# Politeness, pronouns and question words: no weight when matching a query to a procedure.
STOPWORDS: frozenset[str] = frozenset(
    """
    ạ à ơi nhé nha nhỉ hả hở ha vậy thế thì là mà và hay hoặc với của cho em anh chị tôi
    mình bạn ông bà cháu con tao tớ admin ad bot mọi người hỏi xin muốn cần phải có được
    không chưa gì nào sao đâu như bao nhiêu lâu giờ khi nếu ở tại thủ tục hồ sơ giấy tờ
    những các cái này đó kia rồi đã đang sẽ vẫn cũng lại thôi luôn nữa ai gồm làm thế
    việc cách phải trường hợp theo quy định về để thể
    """.split()
)

# fmt: off
# Folk phrase → official wording. Applied to queries only (documents keep their text).
DEFAULT_SYNONYMS: tuple[Synonym, ...] = tuple(
    Synonym(phrase, canonical)
    for phrase, canonical in [
        # land
        ("sổ đỏ", "giấy chứng nhận quyền sử dụng đất"),
        ("sổ hồng", "giấy chứng nhận quyền sử dụng đất quyền sở hữu nhà ở"),
        ("bìa đỏ", "giấy chứng nhận quyền sử dụng đất"),
        ("làm sổ", "cấp giấy chứng nhận quyền sử dụng đất"),
        ("sang tên", "đăng ký biến động chuyển nhượng"),
        ("tách thửa", "tách thửa đất"),
        ("lấn đất", "tranh chấp đất đai"),
        ("lấn sang đất", "tranh chấp đất đai"),
        ("tranh chấp đất", "tranh chấp đất đai"),
        ("hòa giải", "hòa giải tranh chấp"),
        # residence and identity
        ("hộ khẩu", "thường trú"),
        ("nhập khẩu", "đăng ký thường trú"),
        ("cắt khẩu", "xóa đăng ký thường trú"),
        ("thuê trọ", "tạm trú"),
        ("ở trọ", "tạm trú"),
        ("xác nhận cư trú", "xác nhận thông tin về cư trú"),
        ("ct07", "xác nhận thông tin về cư trú"),
        ("ct01", "tờ khai thay đổi thông tin cư trú"),
        ("chứng minh nhân dân", "thẻ căn cước"),
        ("chứng minh thư", "thẻ căn cước"),
        ("làm lại", "cấp lại"),
        ("định danh mức 2", "tài khoản định danh điện tử mức độ 02"),
        ("mức 2", "mức độ 02"),
        ("vneid", "định danh điện tử"),
        ("passport", "hộ chiếu"),
        # civil status
        ("giấy chứng tử", "khai tử"),
        ("báo tử", "khai tử"),
        ("lấy vợ", "kết hôn"),
        ("lấy chồng", "kết hôn"),
        ("cưới", "kết hôn"),
        ("xác nhận độc thân", "xác nhận tình trạng hôn nhân"),
        ("giấy độc thân", "giấy xác nhận tình trạng hôn nhân"),
        ("đổi tên", "thay đổi hộ tịch"),
        ("sửa tên", "thay đổi cải chính hộ tịch"),
        ("ghi sai", "cải chính hộ tịch"),
        ("sai ngày sinh", "cải chính hộ tịch"),
        ("nhận con", "nhận cha mẹ con"),
        ("nhận cha", "nhận cha mẹ con"),
        ("con nuôi", "nuôi con nuôi"),
        ("người giám hộ", "giám hộ"),
        ("lấy chồng nước ngoài", "kết hôn có yếu tố nước ngoài"),
        ("lấy vợ nước ngoài", "kết hôn có yếu tố nước ngoài"),
        ("người nước ngoài", "có yếu tố nước ngoài"),
        ("mất giấy khai sinh", "bản sao giấy khai sinh đăng ký lại khai sinh"),
        # certification
        ("công chứng bản sao", "chứng thực bản sao từ bản chính"),
        ("photo công chứng", "chứng thực bản sao từ bản chính"),
        ("sao y", "chứng thực bản sao từ bản chính"),
        ("chứng thực chữ ký", "chứng thực chữ ký trong giấy tờ văn bản"),
        ("hợp đồng tặng cho", "chứng thực hợp đồng giao dịch"),
        ("hợp đồng mua bán", "chứng thực hợp đồng giao dịch"),
        ("di chúc", "chứng thực di chúc"),
        # business
        ("mở quán", "đăng ký thành lập hộ kinh doanh"),
        ("mở tiệm", "đăng ký thành lập hộ kinh doanh"),
        ("mở cửa hàng", "đăng ký thành lập hộ kinh doanh"),
        ("buôn bán nhỏ", "hộ kinh doanh"),
        ("giấy phép kinh doanh", "giấy chứng nhận đăng ký kinh doanh"),
        ("đóng hộ kinh doanh", "chấm dứt hoạt động hộ kinh doanh"),
        ("nghỉ kinh doanh", "tạm ngừng chấm dứt hoạt động kinh doanh"),
        ("không bán nữa", "chấm dứt hoạt động kinh doanh"),
        # construction
        ("xây nhà", "cấp giấy phép xây dựng nhà ở"),
        ("xây lại", "cấp giấy phép xây dựng mới"),
        ("sửa nhà", "giấy phép xây dựng sửa chữa cải tạo"),
        ("cơi nới", "giấy phép xây dựng sửa chữa cải tạo"),
        # social insurance and benefits
        ("rút bảo hiểm xã hội", "hưởng bảo hiểm xã hội một lần"),
        ("rút bảo hiểm", "hưởng bảo hiểm xã hội một lần"),
        ("tiền tuất", "chế độ tử tuất"),
        ("trợ cấp tuất", "chế độ tử tuất"),
        ("tiền mai táng", "trợ cấp mai táng chế độ tử tuất"),
        ("lương hưu", "hưu trí"),
        ("mua bảo hiểm y tế", "đăng ký đóng cấp thẻ bảo hiểm y tế"),
        ("bảo hiểm y tế hộ gia đình", "đăng ký đóng cấp thẻ bảo hiểm y tế người chỉ tham gia"),
        ("thất nghiệp", "trợ cấp thất nghiệp"),
        ("người có công", "ưu đãi người có công"),
        ("hộ nghèo", "hộ nghèo hộ cận nghèo"),
        ("trợ cấp xã hội", "trợ giúp xã hội hằng tháng"),
        # vehicles
        ("bằng lái", "giấy phép lái xe"),
        ("biển số", "đăng ký biển số xe"),
    ]
)

# Everyday phrases citizens write around the procedure's name. The catalogue is formal
# text, so these teach the diacritic restorer the spoken side (``o dau`` → ``ở đâu``,
# not ``ở đầu``). Counted with extra weight when the restorer is fitted.
COLLOQUIAL_PHRASES: tuple[str, ...] = (
    "cho tôi hỏi", "cho em hỏi", "cho mình hỏi", "cho cháu hỏi", "xin hỏi", "em muốn hỏi",
    "làm ở đâu", "nộp ở đâu", "đăng ký ở đâu", "xin ở đâu", "đi đâu", "ở đâu ạ",
    "bao nhiêu tiền", "hết bao nhiêu tiền", "mất bao nhiêu tiền", "phí bao nhiêu", "bao lâu thì có",
    "mất bao lâu", "bao lâu", "bao giờ", "khi nào", "mấy ngày", "làm sao", "thế nào", "như thế nào",
    "làm thế nào", "làm gì", "cần gì", "cần những giấy tờ gì", "cần mang gì", "mang theo gì",
    "có được không", "được không ạ", "có phải", "có mất phí không", "có cần không", "được không",
    "tôi muốn", "em muốn", "mình muốn", "nhà tôi", "nhà em", "nhà mình", "cả nhà", "gia đình tôi",
    "bố tôi", "mẹ tôi", "bố mẹ tôi", "bố em", "mẹ em", "ông bà", "vợ tôi", "chồng tôi", "con tôi",
    "con gái", "con trai", "em bé", "bé nhà em", "anh trai", "chị gái", "em gái", "bạn trai", "bạn gái",
    "mới mất", "vừa mất", "bị mất", "làm mất", "đánh mất", "bị hỏng", "bị cháy", "hết hạn",
    "hôm qua", "hôm nay", "năm ngoái", "tháng trước", "tuần trước", "năm nay", "sắp tới",
    "làm lại", "làm mới", "xin lại", "đổi lại", "sửa lại", "muốn đổi", "muốn làm", "muốn xin",
    "mua nhà", "xây nhà", "thuê nhà", "thuê trọ", "ở trọ", "chủ nhà", "hàng xóm", "nhà bên cạnh",
    "mở quán", "buôn bán", "bán hàng", "tiệm tạp hóa", "cửa hàng",
    "công an xã", "ủy ban xã", "ra xã", "lên huyện", "lên tỉnh", "ở xã", "ở phường",
    "của tôi", "của em", "của mình", "của bố", "của mẹ", "cho tôi", "cho em", "cho con", "tôi có", "tôi là",
    "em có", "em là", "tôi đang", "em đang", "tôi cần", "em cần", "tôi đã", "em đã", "tôi bị", "em bị",
    "hết hạn rồi", "mất rồi", "xong rồi", "được rồi", "có rồi", "lâu rồi", "tuổi rồi", "tháng rồi",
    "năm rồi", "cũng được", "nào cũng được", "ở đâu cũng được", "so với", "đi làm", "đi đổi", "đi đăng ký",
    "đi nộp", "đi xin", "đổi thẻ", "đổi lại", "làm thẻ", "làm giấy", "làm hồ sơ", "làm thủ tục",
    "về quê", "ở quê", "quê tôi", "ra phường", "ra ủy ban", "lên công an", "công an phường",
    "tiền phí", "hết bao nhiêu", "tốn bao nhiêu", "có mất tiền không", "miễn phí không",
    "ạ", "vậy ạ", "nhé", "nha", "ơi", "à", "không ạ", "rồi", "chưa", "được", "không",
)
# fmt: on

# English welcome as a second language: the words of a commune centre's business, English phrase →
# the Vietnamese the catalogue is written in. A question in English is searched by these words (the
# catalogue has no English); longer phrases win over their parts. Generic vocabulary, not questions.
# fmt: off
ENGLISH_TERMS: tuple[tuple[str, str], ...] = (
    # civil status
    ("birth certificate", "giấy khai sinh"), ("birth", "khai sinh"), ("born", "khai sinh"),
    ("newborn", "khai sinh trẻ em"), ("baby", "khai sinh trẻ em"),
    ("death certificate", "trích lục khai tử"), ("death", "khai tử"), ("died", "khai tử"),
    ("passed away", "khai tử"), ("marriage certificate", "giấy chứng nhận kết hôn"),
    ("marriage", "kết hôn"), ("marry", "kết hôn"), ("married", "kết hôn"), ("wedding", "kết hôn"),
    ("single status", "xác nhận tình trạng hôn nhân"), ("marital status", "xác nhận tình trạng hôn nhân"),
    ("certificate of no impediment", "xác nhận tình trạng hôn nhân"),
    ("divorce", "ly hôn"), ("adopt", "nuôi con nuôi"), ("adoption", "nuôi con nuôi"),
    ("guardian", "giám hộ"), ("guardianship", "giám hộ"), ("paternity", "nhận cha mẹ con"),
    ("recognize father", "nhận cha mẹ con"), ("change name", "thay đổi hộ tịch"),
    ("correct", "cải chính hộ tịch"), ("mistake", "cải chính hộ tịch"), ("ethnicity", "xác định lại dân tộc"),
    ("extract", "trích lục hộ tịch"), ("copy of", "bản sao trích lục"),
    ("foreigner", "có yếu tố nước ngoài"), ("foreign", "có yếu tố nước ngoài"),
    # residence and identity
    ("permanent residence", "đăng ký thường trú"), ("temporary residence", "đăng ký tạm trú"),
    ("temporary absence", "khai báo tạm vắng"), ("household registration", "thường trú"),
    ("residence", "cư trú"), ("move", "chuyển nơi thường trú"), ("rent", "tạm trú"),
    ("id card", "thẻ căn cước"), ("identity card", "thẻ căn cước"), ("citizen id", "thẻ căn cước"),
    ("electronic identification", "định danh điện tử"), ("electronic id", "định danh điện tử"),
    ("passport", "hộ chiếu"), ("nationality", "quốc tịch"), ("citizenship", "quốc tịch"),
    ("criminal record", "lý lịch tư pháp"),
    # certification
    ("certified copy", "chứng thực bản sao từ bản chính"), ("certify", "chứng thực"),
    ("notarize", "chứng thực"), ("notarise", "chứng thực"), ("signature", "chứng thực chữ ký"),
    ("translation", "chứng thực chữ ký người dịch"), ("contract", "chứng thực hợp đồng"),
    ("testament", "di chúc"), ("inheritance", "phân chia di sản thừa kế"), ("inherit", "thừa kế di sản"),
    # land, housing, building
    ("land title", "giấy chứng nhận quyền sử dụng đất"), ("land use right", "quyền sử dụng đất"),
    ("red book", "giấy chứng nhận quyền sử dụng đất"), ("pink book", "giấy chứng nhận quyền sử dụng đất"),
    ("land", "đất đai"), ("plot", "thửa đất"), ("split", "tách thửa"), ("merge", "hợp thửa"),
    ("transfer", "chuyển nhượng đăng ký biến động"), ("buy", "chuyển nhượng"), ("bought", "chuyển nhượng"),
    ("sell", "chuyển nhượng"), ("gift", "tặng cho"), ("mortgage", "thế chấp"),
    ("dispute", "tranh chấp"), ("mediation", "hòa giải"), ("building permit", "giấy phép xây dựng"),
    ("build", "xây dựng nhà ở"), ("construction", "xây dựng"), ("repair", "sửa chữa cải tạo"),
    ("house", "nhà ở"), ("home", "nhà ở"), ("lost", "bị mất cấp lại"), ("damaged", "hư hỏng cấp đổi"),
    ("replace", "cấp lại"), ("reissue", "cấp lại"), ("renew", "cấp đổi gia hạn"),
    # business, tax, insurance, welfare
    ("household business", "hộ kinh doanh"), ("business", "kinh doanh"), ("shop", "hộ kinh doanh"),
    ("tax", "thuế"), ("income tax", "thuế thu nhập cá nhân"), ("health insurance", "bảo hiểm y tế"),
    ("social insurance", "bảo hiểm xã hội"), ("insurance", "bảo hiểm"), ("unemployment", "trợ cấp thất nghiệp"),
    ("maternity", "chế độ thai sản"), ("pension", "lương hưu"), ("disability", "khuyết tật"),
    ("elderly", "người cao tuổi"), ("allowance", "trợ cấp"), ("poor household", "hộ nghèo"),
    ("veteran", "người có công"), ("martyr", "liệt sĩ"), ("funeral", "mai táng phí"),
    ("vehicle", "đăng ký xe"), ("motorbike", "đăng ký xe mô tô"), ("driving licence", "giấy phép lái xe"),
    ("driving license", "giấy phép lái xe"),
    # what is asked
    ("register", "đăng ký"), ("registration", "đăng ký"), ("certificate", "giấy chứng nhận"),
    ("fee", "lệ phí"), ("cost", "lệ phí"), ("how long", "thời hạn giải quyết"),
    ("documents", "thành phần hồ sơ"), ("papers", "thành phần hồ sơ"), ("child", "trẻ em"),
)
# fmt: on

# English words that spell no Vietnamese syllable, with or without marks («the» is «thẻ», «can» «cần»,
# «my» «mỹ», «that» «thật»): two of them make a message English.
ENGLISH_FUNCTION_WORDS: frozenset[str] = frozenset(
    "how what where when which who does did could should would want need our your their "
    "is are was were have has of for with from this there please get got into".split()
)
