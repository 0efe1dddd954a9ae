"""The ``generate`` job: catalogue + template -> one workbook per unit in outbox/.

Every issued token is recorded in the store, so a returned file is identified by
its token even when the unit edits the visible unit name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hoacu_xlsx import builder
from hoacu_xlsx import template as tpl
from hoacu_xlsx.catalogue import Catalogue


class GenerateError(Exception):
    """Generation cannot go on; the message is Vietnamese."""


@dataclass
class GenerateResult:
    outdir: Path
    built: list[builder.Built]
    template: str
    drafts: list[Path] = field(default_factory=list)
    no_address: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"Đã tạo {len(self.built)} sổ đề xuất trong {self.outdir} (mẫu trình bày: {self.template}):"]
        out += [f"  • {b.path.name} — {b.unit.name}" for b in self.built]
        if self.drafts:
            out.append(f"Đã ghi {len(self.drafts)} thư nháp .eml bên cạnh các sổ.")
        if self.no_address:
            out.append("Chưa có địa chỉ thư (điền 'email' trong danh mục): " + ", ".join(self.no_address))
        return out


def run(catalogue: Catalogue, workdir: Path, *, units: list[str] | None = None, template: str | None = None,
        outdir: str | Path | None = None, email: bool = False) -> GenerateResult:
    chosen = catalogue.units_with_nominations()
    if units:
        unknown = [u for u in units if catalogue.unit(u) is None]
        if unknown:
            raise GenerateError(f"Không có đơn vị mã {', '.join(unknown)} trong danh mục.")
        chosen = [u for u in chosen if u.id in units]
    tpath = tpl.find_template(workdir, template)
    try:
        style = tpl.load_style(tpath)
    except Exception as exc:  # a template the officer broke: say so, never a traceback
        raise GenerateError(f"Không đọc được mẫu trình bày '{tpath}': {exc}. "
                            "Sửa lại tệp mẫu hoặc xóa nó để dùng mẫu có sẵn.") from None
    out = Path(outdir) if outdir else workdir / "outbox"
    (workdir / "inbox").mkdir(parents=True, exist_ok=True)  # where the officer will save what comes back
    try:
        built = builder.build_all(catalogue, out, style, chosen)
    except OSError as exc:
        raise GenerateError(f"Không ghi được vào thư mục '{out}': {exc.strerror or exc}.") from None
    from hoacu_xlsx.store import Store

    with Store.open(workdir) as store:
        store.record_issued(catalogue.year, [(b.meta.token, b.unit.id, b.path.name, b.meta.generated_at) for b in built])
    result = GenerateResult(out, built, style.source)
    if email:
        from hoacu_xlsx import mail

        result.drafts, result.no_address = mail.write_drafts(catalogue, built)
    return result
