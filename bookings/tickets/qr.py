"""A ticket's QR code as SVG, drawn by segno (pure Python, no system libraries)."""

import io

import segno


def qr_svg(code: str, *, title: str = "") -> bytes:
    """The code as an SVG QR code: error correction level M at least (segno raises it when that
    fits in the same size), 4 modules of white quiet zone as the standard asks, so it also
    reads on a dark screen, and a viewBox with no fixed size, so it scales sharply to any
    size."""
    out = io.BytesIO()
    segno.make(code, error="m", micro=False).save(
        out,
        kind="svg",
        scale=1,
        border=4,
        light="#fff",
        xmldecl=False,
        omitsize=True,
        title=title or None,
    )
    return out.getvalue()
