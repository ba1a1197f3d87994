//! Drawing helpers for the PDFs the product generates (exports, invoices): text in the PDF's
//! built-in Helvetica (nothing embedded), rules, fills and fitting text to a column.

use printpdf::{
    BuiltinFont, Color, Line, LinePoint, Mm, Op, PaintMode, PdfFontHandle, Point, Pt, Rect, Rgb,
    TextItem,
};

/// Average Helvetica glyph width, as a share of the font size.
const GLYPH_EM: f32 = 0.52;
const PT_TO_MM: f32 = 0.352_778;

#[must_use]
pub fn rgb(r: f32, g: f32, b: f32) -> Color {
    Color::Rgb(Rgb {
        r,
        g,
        b,
        icc_profile: None,
    })
}

/// Text with its baseline starting at (`x`, `y`) mm.
pub fn text_at(ops: &mut Vec<Op>, x: f32, y: f32, font: BuiltinFont, size: f32, text: String) {
    ops.push(Op::StartTextSection);
    ops.push(Op::SetTextCursor {
        pos: Point::new(Mm(x), Mm(y)),
    });
    ops.push(Op::SetFont {
        font: PdfFontHandle::Builtin(font),
        size: Pt(size),
    });
    ops.push(Op::ShowText {
        items: vec![TextItem::Text(text)],
    });
    ops.push(Op::EndTextSection);
}

/// Roughly how wide `text` is, in mm, at `size` points.
#[must_use]
pub fn text_width(text: &str, size: f32) -> f32 {
    #[allow(clippy::cast_precision_loss)]
    let chars = text.chars().count() as f32;
    chars * size * GLYPH_EM * PT_TO_MM
}

/// Text whose right end is at `right` mm (amounts in columns).
pub fn text_right(
    ops: &mut Vec<Op>,
    right: f32,
    y: f32,
    font: BuiltinFont,
    size: f32,
    text: String,
) {
    let x = right - text_width(&text, size);
    text_at(ops, x, y, font, size, text);
}

/// A horizontal rule from `x1` to `x2` mm at height `y`.
pub fn hline(ops: &mut Vec<Op>, x1: f32, x2: f32, y: f32) {
    ops.push(Op::DrawLine {
        line: Line {
            points: vec![
                LinePoint {
                    p: Point::new(Mm(x1), Mm(y)),
                    bezier: false,
                },
                LinePoint {
                    p: Point::new(Mm(x2), Mm(y)),
                    bezier: false,
                },
            ],
            is_closed: false,
        },
    });
}

/// A filled rectangle (x, y from the bottom-left, mm).
pub fn fill_rect(ops: &mut Vec<Op>, x: f32, y: f32, w: f32, h: f32, color: Color) {
    ops.push(Op::SetFillColor { col: color });
    ops.push(Op::DrawRectangle {
        rectangle: Rect {
            mode: Some(PaintMode::Fill),
            ..Rect::from_xywh(Mm(x).into(), Mm(y).into(), Mm(w).into(), Mm(h).into())
        },
    });
    ops.push(Op::SetFillColor {
        col: rgb(0.0, 0.0, 0.0),
    });
}

/// Cut `text` (control characters flattened) to fit `width_mm` at `size` points, with an
/// ellipsis when cut.
#[must_use]
pub fn fit(text: &str, width_mm: f32, size: f32) -> String {
    let per_char = size * GLYPH_EM * PT_TO_MM;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let max = ((width_mm - 1.5) / per_char).max(1.0) as usize;
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_its_column() {
        assert_eq!(fit("court", 30.0, 7.0), "court");
        let cut = fit(&"x".repeat(500), 20.0, 7.0);
        assert!(cut.ends_with('…'));
        assert!(cut.chars().count() < 40);
        assert_eq!(fit("a\nb", 30.0, 7.0), "a b");
    }
}
