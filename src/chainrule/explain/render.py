"""Renderers: aligned Unicode text, Markdown with LaTeX math, LaTeX source, HTML with MathML.

The HTML page needs no network: its math is MathML, which browsers lay out natively (no
MathJax, no CDN).

>>> from .blocks import Equation, Row
>>> from .symbolic import Num, Sym
>>> print(to_text([Equation(Sym("y", "y"), [Row(Num(2.0)), Row(Num(3.0))])]), end="")
y = 2
  = 3
"""

from __future__ import annotations

from html import escape

from . import symbolic as S
from .blocks import Block, Equation, Heading, Inline, Para, Table
from .notation import latex_text


# ---- text -------------------------------------------------------------------------------
def _inline_text(parts: list[Inline]) -> str:
    return "".join(p if isinstance(p, str) else S.to_text(p) for p in parts)


def to_text(blocks: list[Block]) -> str:
    """Aligned Unicode text for a terminal."""
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            title = _inline_text(block.parts)
            lines += ([""] if lines and lines[-1] else []) + [
                title, ("=" if block.level == 1 else "-") * len(title)]
        elif isinstance(block, Para):
            lines.append(_inline_text(block.parts))
        elif isinstance(block, Equation):
            lhs = S.to_text(block.lhs)
            pad = " " * len(lhs)
            for n, row in enumerate(block.rows):
                lines.append(f"{lhs if n == 0 else pad} = {S.to_text(row.expr, row.numbers)}")
        elif isinstance(block, Table):
            cells = [block.header] + [[_inline_text([c]) for c in r] for r in block.rows]
            widths = [max(len(r[i]) for r in cells) for i in range(len(block.header))]
            for n, r in enumerate(cells):
                lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
                if n == 0:
                    lines.append("  ".join("-" * w for w in widths))
        lines.append("") if not isinstance(block, Heading) else None
    return "\n".join(lines).strip("\n") + "\n"


# ---- Markdown and LaTeX -----------------------------------------------------------------
def _inline_math(parts: list[Inline], dollar: str = "$") -> str:
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        else:
            out.append(f"{dollar}{S.to_latex(p)}{dollar}")
    return "".join(out)


def _aligned(block: Equation) -> str:
    rows = [f"{S.to_latex(block.lhs)} &= {S.to_latex(block.rows[0].expr, block.rows[0].numbers)}"]
    rows += [f"&= {S.to_latex(r.expr, r.numbers)}" for r in block.rows[1:]]
    return " \\\\\n".join(rows)


def to_markdown(blocks: list[Block]) -> str:
    """Markdown with ``$...$`` and ``$$...$$`` math, as GitHub renders it."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append("#" * (block.level + 1) + " " + _inline_math(block.parts))
        elif isinstance(block, Para):
            out.append(_inline_math(block.parts))
        elif isinstance(block, Equation):
            out.append("$$\n\\begin{aligned}\n" + _aligned(block) + "\n\\end{aligned}\n$$")
        elif isinstance(block, Table):
            lines = ["| " + " | ".join(block.header) + " |",
                     "|" + "|".join("---" for _ in block.header) + "|"]
            lines += ["| " + " | ".join(_inline_math([c]).replace("|", r"\|") for c in r)
                      + " |" for r in block.rows]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _inline_latex(parts: list[Inline]) -> str:
    return "".join(latex_text(p) if isinstance(p, str) else f"${S.to_latex(p)}$"
                   for p in parts)


def to_latex(blocks: list[Block], standalone: bool = False) -> str:
    """LaTeX source (amsmath); ``standalone`` wraps it in a compilable article."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out.append(("\\section*{" if block.level == 1 else "\\subsection*{")
                       + _inline_latex(block.parts) + "}")
        elif isinstance(block, Para):
            out.append(_inline_latex(block.parts))
        elif isinstance(block, Equation):
            out.append("\\begin{align*}\n" + _aligned(block) + "\n\\end{align*}")
        elif isinstance(block, Table):
            spec = "l" * len(block.header)
            rows = [" & ".join(latex_text(h) for h in block.header) + r" \\ \hline"]
            rows += [" & ".join(_inline_latex([c]) for c in r) + r" \\" for r in block.rows]
            out.append(f"\\begin{{tabular}}{{{spec}}}\n" + "\n".join(rows) + "\n\\end{tabular}")
    body = "\n\n".join(out) + "\n"
    if not standalone:
        return body
    return ("\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage[utf8]{inputenc}\n"
            "\\begin{document}\n\n" + body + "\n\\end{document}\n")


# ---- HTML with MathML ---------------------------------------------------------------------
def _inline_html(parts: list[Inline]) -> str:
    return "".join(escape(p) if isinstance(p, str) else f"<math>{S.to_mathml(p)}</math>"
                   for p in parts)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
math[display="block"] { margin: 0.8rem 0; overflow-x: auto; }
mtd { math-style: normal; padding: 0.2em 0.15em; }
mtd:first-child { text-align: right; }
mtd:last-child { text-align: left; }
table { border-collapse: collapse; margin: 0.8rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.2rem 0.8rem; text-align: left; }
"""


def to_html(blocks: list[Block], standalone: bool = True, title: str = "Derivation") -> str:
    """HTML whose math is MathML (rendered by the browser itself, no network needed)."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            level = block.level + 1
            out.append(f"<h{level}>{_inline_html(block.parts)}</h{level}>")
        elif isinstance(block, Para):
            out.append(f"<p>{_inline_html(block.parts)}</p>")
        elif isinstance(block, Equation):
            rows = []
            for n, row in enumerate(block.rows):
                lhs = S.to_mathml(block.lhs) if n == 0 else ""
                rows.append(f"<mtr><mtd>{lhs}</mtd><mtd><mo>=</mo></mtd>"
                            f"<mtd>{S.to_mathml(row.expr, row.numbers)}</mtd></mtr>")
            out.append('<math display="block"><mtable columnalign="right center left">'
                       + "".join(rows) + "</mtable></math>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
            body = "".join("<tr>" + "".join(f"<td>{_inline_html([c])}</td>" for c in r)
                           + "</tr>" for r in block.rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    body = "\n".join(out)
    if not standalone:
        return f'<div class="chainrule-derivation">\n{body}\n</div>\n'
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")
