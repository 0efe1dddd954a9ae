"""The texts of the returned-file checks, the merge and the officer's catalogue, keyed by stable code.

The officer sees the code in the master (``Lỗi cần sửa`` › ``Mã lỗi``) and tests assert on it,
so codes never change. A key is the code itself, or ``code/variant`` when one code has
several wordings (the variant never reaches the officer: :func:`code_of` drops it). Texts
that are no problem of a returned file (a merge that stops, the officer's catalogue, what
changed in it) are keyed ``module/name``.

* :data:`TEXTS` — whole messages: key -> (default severity, template);
* :data:`REASONS` — parts of a message (why a file could not be read, a legacy-encoding
  label...), filled into a TEXTS template or into a message still written elsewhere.

Templates are ``str.format`` strings; the Vietnamese wording is NFC and must stay as the
units and the officer know it.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from hoacu_xlsx.problems import ERROR, WARNING, Problem

E, W = ERROR, WARNING

TEXTS: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- reader: which unit, which table
    "other_year": (E, "Tệp '{file}' là sổ của đợt năm {year}{owner}, không phải đợt năm {current} đang tổng hợp; "
                      "tệp không được tính. Nếu đơn vị gửi nhầm sổ cũ, đề nghị gửi lại sổ năm {current}."),
    "meta_edited": (W, "Trang _meta đã bị sửa: mã đơn vị '{meta_unit}' không khớp mã xác nhận của sổ "
                       "(phát cho {unit}). Nhận diện theo mã xác nhận."),
    "unknown_token": (W, "Mã xác nhận (token) trong trang _meta không có trong danh sách sổ đã phát; "
                         "nhận diện theo mã đơn vị ghi trong _meta."),
    "identified_by_name": (W, "Không dùng được thông tin nhận diện ẩn ({reason}); đã nhận diện đơn vị theo tên ghi "
                              "trong sổ: {unit}."),
    "identified_by_filename": (W, "Không dùng được thông tin nhận diện ẩn ({reason}); đã nhận diện đơn vị theo tên "
                                  "tệp: {unit}."),
    "unidentified": (E, "Không xác định được đơn vị gửi sổ ({reason}; không thấy tên đơn vị hợp lệ trong sổ). "
                        "Đề nghị đơn vị dùng đúng sổ đã được gửi."),
    "unknown_assignment": (E, "Sổ có trang cho nhiệm vụ '{assignment}' không có trong danh mục."),
    "assignment_not_held": (E, "{unit} không được giao {heading}; dữ liệu của mục này không được tính."),
    "assignment_missing": (W, "Sổ không có trang cho {heading} (sổ cũ?)."),
    "typed_on_instructions": (W, "Có dữ liệu nhập ở trang Hướng dẫn (ô {cells}); trang này không được đọc — "
                                 "hãy nhập vào bảng của trang Mục."),
    "extra_sheet": (W, "Trang thêm '{sheet}' không thuộc mẫu; nội dung của trang này không được đọc."),
    "table_missing": (E, "Không tìm thấy bảng của {heading} (trang '{layout_sheet}' bị đổi tên, xóa hoặc mất dòng "
                         "tiêu đề cột)."),
    "sheet_renamed": (W, "Trang '{old}' đã bị đổi tên thành '{sheet}'; vẫn đọc được."),
    "rows_shifted": (W, "Dòng tiêu đề cột đã dịch từ dòng {old_row} sang dòng {new_row} (có chèn/xóa dòng); "
                        "vẫn đọc được."),
    "columns_moved": (W, "Các cột đã bị chèn, xóa hoặc đổi chỗ; đã đọc theo tiêu đề cột."),
    "missing_column": (E, "Thiếu cột '{header}' (cột bắt buộc đã bị xóa). Đề nghị dùng lại sổ gốc hoặc khôi phục "
                          "cột này."),
    "missing_column/recommended": (W, "Thiếu cột '{header}' (cột nên có đã bị xóa). Đề nghị dùng lại sổ gốc hoặc "
                                      "khôi phục cột này."),
    "stray_cells": (W, "Có dữ liệu nằm ngoài các cột của bảng (ô {cells}); không được đọc."),
    "merged_rows": (W, "Các ô {cells} bị gộp qua nhiều dòng; chỉ dòng đầu được đọc. Hãy bỏ gộp ô và ghi mỗi điển "
                       "hình một dòng."),
    # ---------------------------------------------------------------- validator: row by row
    "bad_date": (W, "Ngày lập '{text}' không đúng dạng ngày (dd/mm/yyyy)."),
    "no_preparer": (W, "Chưa ghi họ tên người lập biểu (phía trên bảng)."),
    "below_table": (W, "Dòng {row} nằm ngoài vùng bảng được chuẩn bị sẵn; vẫn được đọc, lần sau hãy nhập trong "
                       "bảng."),
    "kind_not_allowed": (E, "Loại điển hình '{kind}' không thuộc danh sách của mục này ({allowed}). Hãy chọn lại "
                            "trong danh sách."),
    "criterion_blank": (E, "Chưa đánh giá tiêu chí TC{number} ({short}) — chọn Đạt hoặc Chưa đạt."),
    "not_in_list/criterion": (E, "Giá trị '{text}' ở tiêu chí TC{number} không hợp lệ; chỉ chọn Đạt hoặc Chưa đạt."),
    "not_in_list": (E, "Giá trị '{text}' ở cột '{header}' không có trong danh sách chọn (có thể do dán đè lên ô "
                       "chọn). Hãy chọn lại trong danh sách."),
    "criterion_not_applicable": (W, "Tiêu chí TC{number} không áp dụng cho loại '{kind}'; giá trị này được bỏ qua."),
    "criterion_not_met": (W, "Tiêu chí TC{number} ({short}) được đánh giá 'Chưa đạt' — đề nghị xem lại việc đề "
                             "xuất điển hình này."),
    "formula_error": (E, "Ô có lỗi công thức {error} ở cột '{header}': hãy xóa công thức và gõ trực tiếp giá trị."),
    "required_blank": (E, "Chưa điền '{header}' (bắt buộc)."),
    "required_blank/kind": (E, "Chưa điền '{header}' (bắt buộc với loại '{kind}')."),
    "recommended_blank": (W, "Nên điền '{header}' để theo dõi, nhân rộng điển hình."),
    "bad_year": (E, "Năm sinh '{text}' không hợp lệ; ghi 4 chữ số, ví dụ 1985."),
    "bad_year/range": (E, "Năm sinh {year} nằm ngoài khoảng 1900–{last}."),
    "bad_phone": (W, "Số điện thoại '{text}' không hợp lệ."),
    "too_long": (W, "Nội dung ở cột '{header}' quá dài; chỉ giữ {limit} ký tự đầu."),
    "no_nominations": (E, "Chưa có điển hình nào được đề xuất cho {heading} (cần ít nhất {quota:02d})."),
    "legacy_encoding": (W, "Chữ gõ bằng bảng mã cũ {encoding}; đã chuyển sang Unicode thành '{fixed}'. "
                           "Đề nghị đơn vị dùng phông Unicode (Times New Roman)."),
    "duplicate_person": (W, "'{name}' ({born}) có thể trùng: được đề xuất hai lần, tại đây và tại "
                            "{first_file} › trang '{first_sheet}' dòng {first_row}."),
    "duplicate_person/other_unit": (W, "'{name}' ({born}) có thể trùng: được đề xuất hai lần, tại đây và tại "
                                       "{first_file} › trang '{first_sheet}' dòng {first_row} "
                                       "(đơn vị {first_unit})."),
    # ---------------------------------------------------------------- intake: files refused before reading
    "material_macro": (E, "Văn bản '{name}' có macro — tài liệu kinh nghiệm không cần macro nên tệp không được giữ; "
                          "đề nghị đơn vị lưu lại dạng .docx (Word Document) hoặc .pdf rồi gửi lại."),
    "material_damaged": (E, "Văn bản '{name}' (Word 97–2003) bị hỏng — đề nghị đơn vị lưu lại dạng .docx hoặc .pdf "
                            "rồi gửi lại."),
    "password": (E, "Tệp '{name}' được đặt mật khẩu nên không đọc được — đề nghị đơn vị gỡ mật khẩu rồi gửi lại."),
    "not_workbook": (E, "Tệp '{name}' ({what}) không phải sổ đề xuất (Excel/LibreOffice) — đề nghị đơn vị gửi lại "
                        "đúng sổ đã nhận."),
    "refused/area_too_big": (E, "Tệp '{name}' có vùng dữ liệu quá lớn{at}: {rows} dòng × {cols} cột (giới hạn "
                                "{max_rows} dòng, {max_cols} cột) — hãy xóa các dòng, cột thừa (kể cả ô chỉ có dấu "
                                "cách) rồi gửi lại."),
    "refused/zip_corrupt": (E, "Tệp '{name}' bị hỏng hoặc bị cắt cụt (không mở được như tệp nén .xlsx/.ods/.zip) — "
                               "đề nghị đơn vị gửi lại."),
    "refused/zip_members": (E, "Tệp '{name}' chứa quá nhiều thành phần ({count}, giới hạn {limit}) — tệp bị từ chối."),
    "refused/zip_members_listed": (E, "Tệp '{name}' chứa quá nhiều thành phần — tệp bị từ chối."),
    "refused/zip_bomb": (E, "Tệp '{name}' giải nén ra quá lớn ({detail}) — có thể là tệp 'bom nén' (zip bomb); tệp bị "
                            "từ chối."),
    "refused/zip_method": (E, "Tệp '{name}' dùng kiểu nén không hỗ trợ (phần '{part}') — hãy lưu hoặc nén lại bằng "
                              "Excel/LibreOffice hay ZIP thông thường rồi gửi lại."),
    "refused/zip_size_lie": (E, "Tệp '{name}' có phần '{part}' giải nén ra nhiều hơn kích thước khai báo — có thể là "
                                "tệp 'bom nén' hoặc tệp bị sửa; tệp bị từ chối."),
    "refused/zip_part_broken": (E, "Tệp '{name}' bị hỏng (không giải nén được phần '{part}') — đề nghị đơn vị gửi "
                                   "lại."),
    "refused/no_workbook_part": (E, "Tệp '{name}' là sổ Excel bị hỏng (thiếu phần xl/workbook.xml) — đề nghị đơn vị "
                                    "lưu lại bằng Excel/LibreOffice rồi gửi lại."),
    "unsupported_format/xlsb": (E, "Tệp '{name}' là sổ Excel dạng nhị phân (.xlsb), chưa đọc được — hãy mở tệp, lưu "
                                   "lại dạng .xlsx (Excel Workbook) rồi gửi lại."),
    "refused/unsafe_xml": (E, "Tệp '{name}' chứa {what} trong phần '{part}' — Excel và LibreOffice không bao giờ ghi "
                              "như vậy; có thể là tệp tấn công, tệp bị từ chối."),
    "refused/xml_too_many": (E, "Tệp '{name}' có vùng dữ liệu quá lớn: quá nhiều {what} ({count}) trong phần "
                                "'{part}' — hãy xóa các dòng, cột thừa rồi gửi lại."),
    "ole_damaged": (E, "Tệp '{name}' bị hỏng: cấu trúc tệp Office 97–2003 {detail} — đề nghị đơn vị mở tệp bằng "
                       "Excel, lưu lại dạng .xlsx rồi gửi lại."),
    "msg_unsupported": (E, "Tệp '{name}' là thư Outlook (.msg), chưa đọc được — hãy mở thư trong Outlook, chọn Lưu "
                           "thành (Save As) dạng .eml, hoặc lưu riêng tệp đính kèm vào inbox/."),
    "refused/xls_broken": (E, "Tệp '{name}' (Excel 97–2003) bị hỏng — đề nghị đơn vị gửi lại."),
    "bad_date_header": (W, "Thư '{name}' có ngày gửi không đọc được ('{date}') — thời điểm nhận lấy theo ngày tệp vào "
                           "inbox/."),
    "too_deep/email": (E, "Thư '{name}' lồng nhau quá nhiều lớp (thư chuyển tiếp trong thư) — bị từ chối."),
    "email_without_workbook/winmail": (E, "Thư '{name}' gửi tệp đính kèm dạng winmail.dat (Outlook) nên không có tệp đính kèm "
                                 "là sổ đề xuất — đề nghị đơn vị gửi lại, đính kèm sổ như tệp thông thường."),
    "email_without_workbook": (E, "Thư '{name}' không có tệp đính kèm là sổ đề xuất (Excel/LibreOffice){listed} — đề nghị "
                         "đơn vị gửi lại thư kèm sổ."),
    "bad_email": (E, "Không đọc được thư điện tử '{name}'."),
    # ---------------------------------------------------------------- intake: what a file is (sniff)
    "unsupported_format/flat_xml": (E, "Tệp '{name}' là bảng tính dạng XML (Flat ODS hoặc Excel 2003 XML), chưa đọc "
                                       "được — hãy mở tệp, lưu lại dạng .xlsx hoặc .ods rồi gửi lại."),
    "unsupported_format/html": (E, "Tệp '{name}' mang đuôi '.{ext}' nhưng thực chất là trang web (HTML) — hãy mở tệp "
                                   "bằng Excel, lưu lại dạng .xlsx rồi gửi lại."),
    "refused/fake_extension": (E, "Tệp '{name}' mang đuôi '.{ext}' nhưng không phải sổ Excel/LibreOffice (có thể bị "
                                  "hỏng hoặc bị đổi đuôi) — đề nghị đơn vị gửi lại."),
    "macro": (W, "Tệp '{name}' có macro (.xlsm): chỉ đọc giá trị trong ô, macro không bao giờ được chạy."),
    "wrong_extension": (W, "Tệp '{name}' thực chất là {what} nhưng mang {shown}; vẫn đọc theo nội dung."),
    "too_large": (E, "Tệp '{name}' quá lớn ({size}, giới hạn {limit}); sổ đề xuất chỉ khoảng vài chục KB — tệp bị từ "
                     "chối."),
    "too_large/grew": (E, "Tệp '{name}' quá lớn — tệp bị từ chối."),
    "empty": (E, "Tệp '{name}' rỗng (0 byte) — có thể tệp đính kèm bị lỗi khi lưu; đề nghị đơn vị gửi lại."),
    "material": (E, "Tệp '{name}' là tài liệu kinh nghiệm ({fmt}), không phải sổ đề xuất — đặt vào inbox/ để được lưu "
                    "kèm và liệt kê ở trang 'Tài liệu nhân rộng'."),
    "container": (E, "Tệp '{name}' là {what}, không phải một sổ đề xuất — hãy đặt vào inbox/ để chương trình tự mở các "
                     "sổ bên trong."),
    # ---------------------------------------------------------------- intake: the inbox folder (scan)
    "zip_traversal": (E, "Tên tệp trong gói '{name}' chứa đường dẫn nguy hiểm ('{member}') — tên này không bao giờ "
                         "được dùng làm đường dẫn; tệp bị bỏ qua."),
    "empty_container": (E, "Tệp nén '{name}' không chứa sổ đề xuất nào."),
    "too_deep": (E, "Tệp '{name}' lồng nhau quá nhiều lớp (tệp nén/thư trong tệp nén/thư) — có thể là tệp 'bom nén'; "
                    "tệp bị từ chối."),
    "refused/origin": (E, "Tệp '{name}' bị từ chối: {message}"),
    "not_regular_file": (E, "'{name}' không phải tệp thông thường (thiết bị, ống dẫn…) nên không được đọc."),
    "symlink_outside/folder": (E, "Thư mục '{name}' là liên kết (symlink) trỏ ra ngoài thư mục inbox/ nên không được "
                                  "đọc — hãy chép chính các tệp vào inbox/."),
    "symlink_outside": (E, "Tệp '{name}' là liên kết (symlink) trỏ ra ngoài thư mục inbox/ nên không được đọc — hãy "
                           "chép chính tệp vào inbox/."),
    "unreadable": (E, "Không mở được tệp '{name}': {reason}."),
    # ---------------------------------------------------------------- merge: each stored file examined (picture_build)
    "unreadable/read": (E, "Không đọc được tệp: {error}."),
    "sender_mismatch": (W, "Thư gửi từ {sender}, không phải địa chỉ của {unit} ({email})."),
    "unit_conflict": (E, "Không rõ tệp của đơn vị nào: theo {how} là sổ của {unit}, nhưng {why} là của {other}. Tệp "
                         "CHƯA được tính cho đơn vị nào (bản trước của đơn vị vẫn được dùng). Cán bộ TĐKT ghi "
                         "'{assign} {other_id}' (hoặc {own_id}) hay '{exclude}' vào cột quyết định của tệp này ở trang "
                         "Nhật ký tệp."),
    "check_failed": (E, "Không kiểm tra được tệp ({error}: {detail}); đề nghị đơn vị dùng lại sổ gốc và gửi lại."),
    "bad_verdict": (W, "Quyết định của cán bộ cho tệp '{name}' (mã tệp {file_id}), cột '{header}': {error}. Quyết "
                       "định này chưa được áp dụng."),
    # ---------------------------------------------------------------- merge: notices to the officer (merge)
    "feedback_failed": (W, "Không ghi được thư mục phản hồi: {error}."),
    "no_inbox": (W, "Không có thư mục inbox/; chỉ dựng lại sổ tổng hợp từ kho dữ liệu."),
    "bad_override": (W, "Không hiểu thời điểm nhận '{typed}' cán bộ ghi cho tệp '{name}'; ghi dạng dd/mm/yyyy hh:mm. "
                        "Chưa áp dụng: cột 'Thời điểm nhận' cho biết thời điểm đang dùng."),
    "manual_edits": (W, "Có {count} chỗ sửa tay trong sổ tổng hợp chưa được áp dụng (sửa ô do công cụ ghi, hoặc thêm "
                        "dòng tay) — xem trang '{sheet}'; xóa dòng ở đó khi đã xử lý."),
    "unreadable/open": (E, "Không mở được tệp: {error}."),
    # ---------------------------------------------------------------- merge: the officer's master read back (master_read)
    "stale_lock/libreoffice": (W, "Bỏ qua tệp khóa cũ '{lock}' ({hours} giờ trước, LibreOffice không còn chạy trên máy "
                                  "này)."),
    "stale_lock/excel": (W, "Đã xóa tệp khóa cũ của Excel '{lock}' ({hours} giờ trước; Excel không còn mở sổ)."),
    "added_sheet_values_only": (W, "Không đọc được định dạng/công thức của trang cán bộ thêm ({sheets}: {error}); đã "
                                   "chép lại giá trị. Bản đầy đủ nằm trong '{backups}'."),
    # ---------------------------------------------------------------- merge: write-ups copied next to the master
    "material_copy/lost": (W, "Không chép được tài liệu '{name}': bản lưu trong kho bị mất."),
    "material_copy": (W, "Không chép được tài liệu '{name}' vào '{folder}': {error}."),
    # ---------------------------------------------------------------- merge: earlier rounds' masters (history)
    "history_master_unreadable": (W, "Không đọc được sổ tổng hợp năm {year} '{name}' để theo dõi điển hình qua nhiều "
                                     "năm ({reason}). Các điển hình năm {year} không được đối chiếu; nếu tệp hỏng, hãy "
                                     "chép lại bản sao lưu của sổ năm đó vào master/."),
    "history_failed": (W, "Không đối chiếu được điển hình với các năm trước ({error}); sổ tổng hợp năm nay vẫn được "
                          "ghi đầy đủ."),
    # ---------------------------------------------------------------- merge: same example as last version (identity)
    "bad_link": (W, "Mã '{target}' ghi ở cột 'Nối với mã điển hình' của dòng '{name}' (mã {nomination_id}) không phải "
                    "mã của một điển hình đã rút ở bản trước của {unit} (Mục {item}); chưa nối."),
    "link_candidates": (W, "Dòng {row} {who} có thể là cùng điển hình với {candidates} ở bản trước, nhưng chưa đủ chắc "
                           "để tự nối. Nếu đúng, ghi mã cũ vào cột 'Nối với mã điển hình' của dòng mới ở trang Điển "
                           "hình: quyết định của cán bộ ở dòng cũ sẽ chuyển sang."),
    "email_date_odd": (W, "Ngày gửi ghi trong thư ({sent}, giờ Việt Nam) {why}; cán bộ có thể sửa ở cột 'Sửa thời "
                          "điểm nhận' của trang Nhật ký tệp."),
    # ---------------------------------------------------------------- errors that stop a command (exception texts,
    # not problems: the part before "/" names the module, never a problem code)
    "merge/store_write": (E, "Không ghi được kho dữ liệu '{root}' ({error}); ổ đĩa có thể đã đầy hoặc thư mục không "
                             "cho ghi. Lần gộp này được hủy, không mất dữ liệu đã có; hãy chạy lại sau khi khắc phục."),
    "merge/lock_file": (E, "Không tạo được tệp khóa '{path}': {error}. Kiểm tra quyền ghi của thư mục làm việc."),
    "merge/busy": (E, "Đang có phiên gộp khác đang chạy trong thư mục này; hãy đợi phiên đó xong rồi chạy lại."),
    "fetch/busy": (E, "Đang có phiên nhận thư khác đang chạy trong thư mục này; hãy đợi phiên đó xong rồi chạy "
                      "lại."),
    "master/damaged": (E, "Sổ tổng hợp '{path}' bị hỏng, không đọc được ({error}: {detail}). Không có gì được ghi và "
                          "kho dữ liệu không đổi. Hãy lấy bản gần nhất trong '{backups}' (đổi tên thành '{name}'), "
                          "hoặc đổi tên tệp hỏng đi rồi chạy lại — kho dữ liệu vẫn giữ các cột của cán bộ TĐKT."),
    "master/open_lock": (E, "{master_open}: thấy tệp khóa ẩn '{lock}' cạnh '{name}'{owner}. Không có gì được ghi, kho "
                            "dữ liệu không đổi. Nếu chắc chắn sổ không còn mở ở máy nào, hãy xóa tệp khóa đó rồi chạy "
                            "lại."),
    "master/open_read": (E, "{master_open} ('{path}'). Không có gì được ghi, kho dữ liệu không đổi."),
    "master/mkdir": (E, "Không tạo được thư mục '{folder}' để ghi sổ tổng hợp ({error}). Kiểm tra quyền ghi hoặc dung "
                        "lượng ổ đĩa; dữ liệu đã nhận vẫn được giữ trong kho."),
    "master/write": (E, "Không ghi được sổ tổng hợp vào '{folder}' ({error}). Kiểm tra quyền ghi hoặc dung lượng ổ "
                        "đĩa; sổ cũ và dữ liệu đã nhận vẫn nguyên vẹn."),
    "master/write_failed": (E, "Không ghi được sổ tổng hợp vào '{folder}' ({error}). Sổ cũ và dữ liệu đã nhận vẫn "
                               "nguyên vẹn."),
    "master/backup": (E, "Không giữ được bản sao sổ cũ vào '{folder}' ({error}); sổ cũ chưa bị thay, dữ liệu không bị "
                         "mất."),
    "master/open_write": (E, "{master_open} ('{path}'). Không có gì được ghi; dữ liệu không bị mất."),
    "master/replace": (E, "Không thay được sổ tổng hợp '{path}' ({error}); sổ cũ vẫn nguyên vẹn, dữ liệu không bị "
                          "mất."),
    # ---------------------------------------------------------------- the officer's catalogue (catalogue, catalogue_book)
    # errors that stop a command, gathered pyxform-style into one CatalogueError ("/": the module, not a problem code)
    "catalogue/errors": (E, "Danh mục '{source}' có {count} lỗi — sửa rồi chạy lại:"),
    "catalogue/unreadable": (E, "Không đọc được tệp danh mục '{path}': {error}."),
    "catalogue/not_utf8": (E, "Tệp danh mục '{path}' không phải mã UTF-8. Hãy lưu lại tệp với bảng mã UTF-8."),
    "catalogue/toml_syntax": (E, "Tệp danh mục '{path}' sai cú pháp TOML: {detail}."),
    "catalogue/not_table": (E, "Tệp danh mục '{source}': {where} phải là một bảng (table)."),
    "catalogue/field": (E, "Tệp danh mục '{source}': trường '{field}' của {where} {what}."),
    "catalogue/duplicate_id": (E, "Tệp danh mục '{source}': mã {what} '{value}' bị trùng."),
    "catalogue/no_book": (E, "Không có tệp danh mục '{path}'."),
    "catalogue/not_a_book": (E, "Tệp danh mục '{path}' không đọc được như sổ Excel (.xlsx): tệp bị hỏng, có mật "
                                "khẩu hoặc không phải tệp Excel. Hãy mở tệp bằng Excel hoặc LibreOffice và lưu lại "
                                "dạng .xlsx (không đặt mật khẩu), hoặc chạy 'hoacu-xlsx init --force' để có danh mục "
                                "mới."),
    # ---------------------------------------------------------------- the catalogue workbook, "[sheet, dòng N] …"
    # (catalogue_book); a sheet, column or round-field name is the workbook's own, filled in
    "catalogue/sheet_misnamed": (E, "tên trang không đúng — có phải là '{sheet}'?"),
    "catalogue/sheet_missing": (E, "thiếu trang '{sheet}' (mọi trang: {sheets})"),
    "catalogue/no_header": (E, "không thấy dòng tiêu đề cột ({headers})"),
    "catalogue/column_misnamed": (E, "cột \"{typed}\" không có trong mẫu — có phải là '{header}'?"),
    "catalogue/column_missing": (E, "thiếu cột '{header}'"),
    "catalogue/round_value_unlabelled": (E, "giá trị \"{value}\" không có tên thông tin ở cột '{column}'"),
    "catalogue/round_label_unknown": (E, "\"{label}\" không phải thông tin của đợt — có phải là '{guess}'?"),
    "catalogue/round_label_duplicate": (E, "\"{label}\" trùng với dòng {row}"),
    "catalogue/round_row_missing": (E, "thiếu dòng '{label}'"),
    "catalogue/blank": (E, "{label} không được để trống"),
    "catalogue/applies_blank": (E, "áp dụng cho không được để trống (ghi mã loại điển hình)"),
    "catalogue/not_date": (E, "{label} \"{value}\" không phải ngày (dd/mm/yyyy)"),
    "catalogue/not_whole_between": (E, "{label} \"{value}\" không phải số nguyên từ {low} đến {high}"),
    "catalogue/not_whole_from": (E, "{label} \"{value}\" không phải số nguyên từ {least} trở lên"),
    "catalogue/not_whole_non_negative": (E, "{label} \"{value}\" không phải số nguyên không âm"),
    "catalogue/not_positive": (E, "{label} \"{value}\" không phải số lớn hơn 0"),
    "catalogue/not_a_choice": (E, "{label} \"{value}\" phải là một trong: {choices}"),
    "catalogue/not_either": (E, "{label} \"{value}\" phải là '{first}' hoặc '{second}'"),
    "catalogue/not_email": (E, "{label} \"{value}\" không phải địa chỉ thư điện tử"),
    "catalogue/not_slug": (E, "{label} \"{value}\" chỉ được gồm chữ thường không dấu, số và dấu gạch dưới — có phải là "
                              "'{slug}'?"),
    "catalogue/bad_item_id": (E, "mã nhiệm vụ \"{value}\" chỉ được gồm chữ không dấu, số, '.', '-' hoặc '_'"),
    "catalogue/duplicate": (E, "{label} \"{value}\" trùng với dòng {row}"),
    "catalogue/item_duplicate": (E, "mục {item} trùng với dòng {row}"),
    "catalogue/kind_duplicate": (E, "{label} \"{value}\" của mục {item} trùng với dòng {row}"),
    "catalogue/criterion_duplicate": (E, "tiêu chí số {number} của mục {item} trùng với dòng {row}"),
    "catalogue/no_units": (E, "chưa có đơn vị nào"),
    "catalogue/no_items": (E, "chưa có nhiệm vụ nào"),
    "catalogue/unit_kind_unknown": (E, "loại đơn vị \"{kind}\" không có trong trang {sheet} (cột 'Loại đơn vị')"),
    "catalogue/unit_unknown": (E, "đơn vị \"{unit}\" không có trong trang {sheet}"),
    "catalogue/item_unknown": (E, "mục {item} không có trong trang {sheet}"),
    "catalogue/kind_unknown": (E, "loại điển hình \"{kind}\" không có trong trang {sheet} cho mục {item}"),
    "catalogue/item_without_kinds": (E, "mục {item} đề xuất điển hình nhưng chưa có loại điển hình nào (trang "
                                        "{sheet})"),
    "catalogue/kind_without_criteria": (E, "loại \"{label}\" của mục {item} chưa có tiêu chí nào (trang {sheet})"),
    # what the catalogue workbook holds that is not read (catalogue.notes: shown, never fatal)
    "catalogue/extra_sheet": (W, "Trang '{sheet}' không thuộc danh mục nên không được đọc."),
    "catalogue/extra_column": (W, "Cột '{column}' của trang '{sheet}' không thuộc danh mục nên không được đọc."),
    "catalogue/extra_round_row": (W, "Dòng {row} của trang '{sheet}' (\"{label}\") không thuộc danh mục nên không được "
                                     "đọc."),
    # ---------------------------------------------------------------- what changed since the workbooks went out
    # (catalogue_changes: lines ``generate`` prints; the part before "/" names the module)
    "catalogue_changes/head": (W, "Danh mục đã thay đổi so với lần tạo sổ trước:"),
    "catalogue_changes/unit_added": (W, "Thêm đơn vị \"{unit}\" ({name})."),
    "catalogue_changes/unit_renamed": (W, "Đơn vị \"{unit}\" đổi tên: \"{old}\" → \"{new}\" (sổ đã gửi vẫn được "
                                          "nhận)."),
    "catalogue_changes/unit_removed": (W, "Bỏ đơn vị \"{unit}\" ({name}): sổ đơn vị này gửi về sẽ không được tính."),
    "catalogue_changes/item_added": (W, "Thêm mục {item} \"{title}\"."),
    "catalogue_changes/item_removed": (W, "Bỏ mục {item} \"{title}\": dữ liệu mục này trong sổ gửi về sẽ không được "
                                          "tính."),
    "catalogue_changes/item_renamed": (W, "Mục {item} đổi tên: \"{old}\" → \"{new}\"."),
    "catalogue_changes/assignees_added": (W, "Mục {item} giao thêm cho: {units}."),
    "catalogue_changes/kind_added": (W, "Mục {item} thêm loại điển hình \"{label}\"."),
    "catalogue_changes/kind_renamed": (W, "Mục {item}: loại \"{old}\" đổi tên thành \"{new}\" — sổ đã gửi còn tên cũ."),
    "catalogue_changes/criterion_added": (W, "Mục {item} thêm tiêu chí {number} \"{text}\" — sổ đã gửi chưa có cột "
                                             "này."),
    "catalogue_changes/criterion_reworded": (W, "Mục {item}, tiêu chí {number} sửa lời: \"{old}\" → \"{new}\" (sổ đã "
                                                "gửi vẫn được nhận)."),
    "catalogue_changes/criterion_removed": (W, "Mục {item} bỏ tiêu chí {number}."),
    "catalogue_changes/deadline": (W, "Hạn nộp đổi: {old} → {new} (sổ đã gửi in hạn cũ)."),
    "catalogue_changes/still_merged": (W, "Sổ đã gửi trước vẫn được tổng hợp (nhận diện theo mã sổ, mã đơn vị, số tiêu "
                                          "chí)."),
    "catalogue_changes/still_merged/resend": (W, "Sổ đã gửi trước vẫn được tổng hợp (nhận diện theo mã sổ, mã đơn vị, "
                                                 "số tiêu chí); nhưng hãy gửi lại sổ mới cho: {units}."),
}

REASONS: dict[str, str] = {
    # why a workbook could not be read (reader, readpool): "Không đọc được tệp: <reason>."
    "read.password": "tệp được đặt mật khẩu — đơn vị cần gỡ mật khẩu rồi gửi lại",
    "read.damaged": ("tệp bị hỏng hoặc không đúng định dạng bảng tính — đề nghị đơn vị mở tệp bằng Excel hoặc "
                     "LibreOffice, lưu lại dạng .xlsx rồi gửi lại"),
    "read.sheet": "không đọc được trang '{sheet}' ({reason})",
    "read.too_many_cells": "tệp có quá nhiều ô dữ liệu (hơn {limit} ô)",
    "read.crashed": ("tệp làm chương trình đọc bị lỗi hoặc vượt quá bộ nhớ; đề nghị đơn vị mở tệp bằng Excel, lưu lại "
                     "dạng .xlsx rồi gửi lại"),
    "read.timed_out": ("tệp làm chương trình đọc chạy quá {seconds} giây; đề nghị đơn vị mở tệp bằng Excel, lưu lại "
                       "dạng .xlsx rồi gửi lại"),
    "read.ods_unreadable": ("bảng tính .ods này (thường do Gnumeric hoặc chương trình khác lưu) chưa đọc được — đề "
                            "nghị đơn vị mở tệp bằng LibreOffice hoặc Excel và lưu lại dạng .xlsx rồi gửi lại"),
    # why the hidden _meta sheet could not identify the unit
    "meta.missing": "không có trang _meta",
    "meta.missing_keys": "trang _meta thiếu khóa: {keys}",
    "meta.unknown_unit": "mã đơn vị '{unit_id}' trong trang _meta không có trong danh mục",
    # legacy encodings named in "legacy_encoding"
    "encoding.tcvn3": "TCVN3 (ABC, phông .VnTime)",
    "encoding.vni": "VNI (phông VNI-Times)",
    "born.unknown": "không rõ năm sinh",
    # values normalize.py refuses (the validator words its own message; these explain the ValueError)
    "value.year": "năm sinh không hợp lệ",
    "value.year_fraction": "năm sinh phải là số nguyên",
    "value.year_text": "'{text}' không phải năm sinh (ghi 4 chữ số, ví dụ 1985)",
    "value.phone": "số điện thoại không hợp lệ",
    "value.phone_text": "'{text}' không phải số điện thoại",
    "value.phone_short": "'{text}' không đủ số (số di động có 10 chữ số)",
    "value.date_serial": "số ngày không hợp lệ",
    "value.date_text": "'{text}' không phải ngày (ghi dạng dd/mm/yyyy)",
    "value.date_invalid": "'{text}' không phải ngày hợp lệ",
    # what an .xls (OLE compound file) has wrong: "cấu trúc tệp Office 97–2003 <detail>"
    "ole.truncated": "bị cắt cụt (ngắn hơn phần đầu tệp)",
    "ole.sector_size": "có kích thước sector không hợp lệ",
    "ole.fat_count": "khai {count} sector bảng FAT, nhiều hơn kích thước tệp cho phép",
    "ole.difat_outside": "có chuỗi DIFAT chỉ tới sector nằm ngoài tệp",
    "ole.difat_loop": "có chuỗi DIFAT lặp vòng",
    "ole.unreadable": "không đọc được (bảng sector hoặc bảng thư mục sai)",
    "ole.chain_outside": "có {what} chỉ tới sector nằm ngoài tệp",
    "ole.chain_loop": "có {what} lặp vòng (chỉ ngược về chính nó)",
    "ole.stream_too_big": "có {what} khai kích thước lớn hơn cả tệp",
    "ole.stream_short": "có {what} ngắn hơn kích thước khai báo",
    "ole.chain_of": "chuỗi sector của {what}",
    "ole.directory": "bảng thư mục",
    "ole.minifat": "bảng mini-FAT",
    "ole.ministream": "luồng mini (mini-stream)",
    "ole.small_stream": "một luồng dữ liệu nhỏ",
    "ole.stream": "một luồng dữ liệu",
    "ole.too_many_entries": "có quá nhiều mục trong bảng thư mục ({count})",
    "ole.minifat_broken": "có bảng mini-FAT hoặc luồng dữ liệu sai",
    "ole.two_books": "có hai luồng '{book}'",
    "ole.sheet_number": "trang thứ {number}",
    "ole.word": "văn bản Word 97–2003",
    "ole.powerpoint": "tệp PowerPoint",
    "ole.other_office": "tệp Office không phải Excel",
    # what a zip-based file is instead of a workbook, and why it is too big
    "zip.writer": "văn bản LibreOffice Writer",
    "zip.other_libreoffice": "tệp LibreOffice không phải bảng tính",
    "zip.word": "văn bản Word",
    "zip.powerpoint": "tệp PowerPoint",
    "zip.part_declares": "phần '{part}' khai {size}, giới hạn {limit}",
    "zip.total": "tổng dung lượng giải nén vượt {limit}",
    "zip.part_over": "phần '{part}' vượt {limit} khi giải nén",
    "zip.ratio": "phần '{part}' nén với tỉ lệ bất thường hơn {ratio}:1",
    # unsafe or oversized XML inside a workbook
    "xml.utf32": "khai báo XML không an toàn (mã hóa UTF-32)",
    "xml.encoding": "khai báo XML không an toàn (mã hóa '{encoding}')",
    "xml.doctype": "khai báo XML không an toàn (DOCTYPE/ENTITY)",
    "xml.strings": "chuỗi ký tự",
    "xml.cells": "ô",
    "xml.bad_ref": "địa chỉ ô bất thường ('{ref}')",
    "xml.part": "phần '{part}'",
    "email.only": " (chỉ có: {names})",
    # what a file is instead of a workbook (sniff): "Tệp '...' (<what>) không phải sổ đề xuất"
    "what.csv": "tệp CSV",
    "what.text": "tệp văn bản",
    "what.pdf": "tệp PDF",
    "what.word": "văn bản Word",
    "what.writer": "văn bản LibreOffice Writer",
    "what.rtf": "văn bản RTF",
    "what.image": "tệp ảnh",
    "what.powerpoint": "tệp PowerPoint",
    "what.rar": "tệp nén RAR",
    "what.7z": "tệp nén 7-Zip",
    "what.html": "trang web (HTML)",
    "what.xml": "tệp XML",
    "what.archive": "tệp nén không phải ZIP (RAR/7-Zip/gzip)",
    "what.this": "tệp này",
    "what.zip": "tệp nén .zip",
    "what.email": "thư điện tử",
    # what a workbook really is, and the extension it wears ("wrong_extension")
    "format.xlsx": "sổ Excel (.xlsx)",
    "format.xlsm": "sổ Excel có macro (.xlsm)",
    "format.xls": "sổ Excel 97–2003 (.xls)",
    "format.ods": "bảng tính LibreOffice (.ods)",
    "extension.named": "đuôi '.{ext}'",
    "extension.none": "không có đuôi",
    # how a file was identified, and what says it belongs to another unit ("unit_conflict")
    "how.token": "mã xác nhận ẩn của sổ",
    "how.meta": "trang ẩn _meta",
    "how.sheet": "tên ghi trong sổ",
    "how.filename": "tên tệp",
    "how.book": "sổ",
    "conflict.filename": "tên tệp '{name}'",
    "conflict.sender": "người gửi thư {sender}",
    "conflict.sheet_unit": "ô 'Đơn vị:' trong sổ ghi '{name}'",
    # why an email's Date is odd ("email_date_odd")
    "email_date.late": ("muộn hơn lúc tệp đến ({first}); có thể đồng hồ máy người gửi bị sai. Không dùng ngày này: "
                        "thời điểm nhận lấy theo {source}"),
    "email_date.early": ("sớm hơn lúc tệp đến ({first}) quá 2 ngày: thư lưu vào inbox/ muộn, hoặc đồng hồ máy người "
                         "gửi sai. Thời điểm nhận lấy theo ngày gửi thư"),
    # why an earlier round's master could not be read ("history_master_unreadable")
    "history.damaged": "tệp hỏng hoặc không phải sổ .xlsx",
    "history.no_sheet": "không có trang '{sheet}'",
    "history.sheet_broken": "trang '{sheet}' bị hỏng",
    "history.no_header": "không thấy dòng tiêu đề có cột '{label}'",
    "history.missing_columns": "thiếu cột {columns}",
    "history.name_column": "tên",
    # a nomination named in "link_candidates", and what joins several
    "link.who": "'{name}' (mã {nomination_id}, năm sinh {born}, tệp {file} dòng {row})",
    "link.or": "; hoặc ",
    # why the officer's verdict on a file is not understood (verdicts.VerdictError, shown in "bad_verdict")
    "verdict.unclear": "không hiểu '{text}'; chỉ ghi '{exclude}' hoặc '{assign} <mã đơn vị>'",
    "verdict.unknown_unit": ("không có đơn vị '{target}' trong danh mục; ghi mã đơn vị như ở trang Đơn vị (ví dụ "
                             "'{assign} {example}')"),
    "verdict.no_unit": "chưa ghi đơn vị sau '{assign}'",
    # the officer's master (master, master_read)
    "master.open": "Sổ tổng hợp đang mở trong Excel/LibreOffice — hãy đóng rồi chạy lại",
    "master.no_sheets": "không có trang nào",
    "master.lock_owner": " (đang mở bởi {who})",
    "master.on_host": " trên máy ",
    # where a problem about a file sits in the master's file log
    "where.file_id": "Mã tệp {file_id}",
    # why the system refused to open an inbox file ("unreadable")
    "os.denied": "không có quyền đọc tệp (hãy kiểm tra quyền của thư mục inbox/)",
    "os.gone": "tệp đã bị xóa hoặc đổi tên trong lúc đọc",
    "os.loop": "tệp là liên kết (symlink) lặp vòng",
    "os.busy": "tệp đang bị chương trình khác khóa",
    "os.other": "lỗi hệ điều hành khi đọc tệp (ổ đĩa hoặc quyền truy cập)",
    # the officer's catalogue (catalogue, catalogue_book): a problem's place, and a suggestion appended to a text
    "catalogue.at_row": "[{sheet}, dòng {row}] {message}",
    "catalogue.did_you_mean": " — có phải là '{guess}'?",
    # where a catalogue field sits ("catalogue/field": "trường 'x' của <where> <what>")
    "catalogue.top": "phần đầu tệp",
    "catalogue.receiver": "bảng [receiver]",
    "catalogue.signer": "bảng [signer]",
    "catalogue.unit_nth": "đơn vị thứ {number} ([[units]])",
    "catalogue.assignment_nth": "nhiệm vụ thứ {number} ([[assignments]])",
    "catalogue.assignment": "nhiệm vụ '{id}'",
    "catalogue.kind_nth": "loại điển hình thứ {number} của nhiệm vụ '{id}'",
    "catalogue.criterion_nth": "tiêu chí thứ {number} của nhiệm vụ '{id}'",
    # what is wrong with it
    "catalogue.missing": "bị thiếu",
    "catalogue.blank": "không được để trống",
    "catalogue.wrong_type": "phải là {want}, đang là {value!r}",
    "catalogue.bad_id": "chỉ được gồm chữ thường không dấu, số và dấu gạch dưới (đang là '{value}')",
    "catalogue.bad_assignment_id": "chỉ được gồm chữ không dấu, số, '.', '-' hoặc '_'",
    "catalogue.bad_villages": "chỉ được chứa tên thôn (chuỗi khác rỗng)",
    "catalogue.no_assignments": "phải có ít nhất một nhiệm vụ",
    "catalogue.one_of": "phải là một trong {choices} (đang là '{value}')",
    "catalogue.bad_scope": "phải là 'each' hoặc 'joint' (đang là '{value}')",
    "catalogue.negative": "không được âm",
    "catalogue.unknown_unit": "nêu đơn vị '{unit}' không có trong danh sách [[units]]",
    "catalogue.unknown_kind": "nêu loại điển hình '{kind}' không có trong nominee_kinds",
    "catalogue.no_kinds": "phải có ít nhất một loại điển hình (hoặc đặt nominations = false)",
    "catalogue.no_criteria_for": "không có tiêu chí nào cho loại '{label}'",
    # the type a field must have ("catalogue.wrong_type"); true/false is TOML's own spelling
    "catalogue.type_str": "chuỗi",
    "catalogue.type_int": "số nguyên",
    "catalogue.type_list": "danh sách",
    "catalogue.type_bool": "true/false",
    "catalogue.type_date": "ngày (YYYY-MM-DD)",
    "catalogue.type_other": "đúng kiểu",
    # the ids that must not repeat ("catalogue/duplicate_id")
    "catalogue.unit_ids": "đơn vị (units.id)",
    "catalogue.assignment_ids": "nhiệm vụ (assignments.id)",
    "catalogue.kind_ids": "loại điển hình của nhiệm vụ '{id}'",
    "catalogue.kind_labels": "nhãn loại điển hình của nhiệm vụ '{id}'",
    "catalogue.criterion_numbers": "số tiêu chí của nhiệm vụ '{id}'",
    # the catalogue workbook's columns as its problems name them ("catalogue/blank", "catalogue/duplicate"...)
    "catalogue_column.unit_id": "mã đơn vị",
    "catalogue_column.unit_name": "tên đầy đủ",
    "catalogue_column.unit_email": "thư điện tử",
    "catalogue_column.item": "mục",
    "catalogue_column.item_id": "mã nhiệm vụ",
    "catalogue_column.item_kind": "loại",
    "catalogue_column.item_title": "tên phong trào, cuộc vận động, lĩnh vực",
    "catalogue_column.assignees": "đơn vị được giao",
    "catalogue_column.quota": "chỉ tiêu tối thiểu",
    "catalogue_column.quota_scope": "cách tính chỉ tiêu",
    "catalogue_column.nominations": "đề xuất điển hình",
    "catalogue_column.kind_id": "mã loại",
    "catalogue_column.kind_label": "tên loại",
    "catalogue_column.kind_base": "thuộc nhóm",
    "catalogue_column.number": "số",
    "catalogue_column.criterion_text": "nội dung tiêu chí",
    # tomllib's reasons in Vietnamese ("catalogue/toml_syntax"; catalogue._TOML_REASONS maps its English here)
    "toml.place": "dòng {line}, cột {column}",
    "toml.unknown": "tệp không đúng định dạng TOML",
    "toml.invalid_value": "giá trị không hợp lệ (chuỗi phải trong ngoặc kép, ngày dạng 2026-05-31)",
    "toml.invalid_statement": "dòng không đúng dạng 'tên = giá trị'",
    "toml.no_equals": "thiếu dấu '=' sau tên trường",
    "toml.value_redeclared": "trường này đã được khai báo trước đó",
    "toml.table_redeclared": "bảng này đã được khai báo trước đó",
    "toml.table_mutated": "không sửa được bảng đã khai báo",
    "toml.unclosed_array": "thiếu dấu ']' đóng danh sách",
    "toml.unclosed_table": "thiếu dấu '}}' đóng bảng",
    "toml.unterminated_string": "chuỗi chưa có dấu ngoặc kép đóng",
    "toml.newline_in_string": "xuống dòng giữa chuỗi (thiếu dấu ngoặc kép đóng?)",
    "toml.illegal_character": "có ký tự không được phép",
    "toml.bad_key_character": "tên trường có ký tự không được phép",
    "toml.trailing": "thừa nội dung ở cuối dòng",
    "toml.table_bracket": "thiếu dấu ']' ở cuối tên bảng",
    "toml.array_table_bracket": "thiếu dấu ']]' ở cuối tên bảng",
    "toml.no_value": "thiếu giá trị",
    "toml.bad_date": "ngày không hợp lệ (ghi dạng 2026-05-31)",
    "toml.bad_escape": "chuỗi có dấu '\\' không hợp lệ",
    "toml.bad_hex": "mã ký tự không hợp lệ",
    "toml.early_end": "tệp kết thúc giữa chừng",
    "toml.duplicate": "trường bị khai báo hai lần",
}

def code_of(key: str) -> str:
    """The stable problem code of a text key ('bad_year/range' -> 'bad_year')."""
    return key.split("/", 1)[0]


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def text(key: str, **fields: Any) -> str:
    """The message of ``key`` with its placeholders filled."""
    return _nfc(TEXTS[key][1].format(**fields))


def reason(key: str, **fields: Any) -> str:
    """A part of a message (see :data:`REASONS`)."""
    return _nfc(REASONS[key].format(**fields))


def severity_of(key: str) -> str:
    return TEXTS[key][0]


def problem(key: str, file: str, *, severity: str | None = None, unit_id: str | None = None,
            sheet: str | None = None, cell: str | None = None, value: Any = None, sha256: str | None = None,
            **fields: Any) -> Problem:
    """A :class:`Problem` worded by ``key``: ``{file}`` and ``{sheet}`` are filled too when the template names them."""
    sev, template = TEXTS[key]
    msg = template.format(**{"file": file, "sheet": sheet, **fields})
    return Problem(file, msg, severity or sev, code_of(key), unit_id, sheet, cell,
                   None if value is None else str(value), sha256)
