//! The PDF export: an A4 landscape table (Helvetica, the PDF's built-in font, so nothing is
//! embedded), a title with the date and count, a header row on every page and page numbers.

use chrono::{DateTime, Utc};
use printpdf::{BuiltinFont, Mm, Op, PdfDocument, PdfPage, PdfSaveOptions, Pt};
use shared::pdf::{self, fill_rect, rgb, text_at};

use super::{Cell, ExportField, neutralize};
use crate::tickets::service::TicketRow;

const PAGE_W: f32 = 297.0;
const PAGE_H: f32 = 210.0;
const MARGIN: f32 = 10.0;
const FONT_PT: f32 = 7.0;
const ROW_MM: f32 = 4.6;
const TABLE_TOP: f32 = 186.0;
const TABLE_BOTTOM: f32 = 16.0;

fn hline(ops: &mut Vec<Op>, y: f32) {
    pdf::hline(ops, MARGIN, PAGE_W - MARGIN, y);
}

fn fit(text: &str, width_mm: f32) -> String {
    pdf::fit(text, width_mm, FONT_PT)
}

/// The document's bytes.
#[must_use]
pub fn render(fields: &[ExportField], rows: &[TicketRow], generated_at: DateTime<Utc>) -> Vec<u8> {
    let total_weight: f32 = fields.iter().map(|f| f.weight()).sum::<f32>().max(1.0);
    let usable = PAGE_W - 2.0 * MARGIN;
    let widths: Vec<f32> = fields
        .iter()
        .map(|f| f.weight() / total_weight * usable)
        .collect();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let per_page = (((TABLE_TOP - ROW_MM) - TABLE_BOTTOM) / ROW_MM)
        .floor()
        .max(1.0) as usize;
    let chunks: Vec<&[TicketRow]> = if rows.is_empty() {
        vec![&[]]
    } else {
        rows.chunks(per_page).collect()
    };
    let page_count = chunks.len();
    let mut pages = Vec::with_capacity(page_count);
    for (index, chunk) in chunks.iter().enumerate() {
        let mut ops = Vec::new();
        ops.push(Op::SetFillColor {
            col: rgb(0.0, 0.0, 0.0),
        });
        text_at(
            &mut ops,
            MARGIN,
            PAGE_H - 14.0,
            BuiltinFont::HelveticaBold,
            13.0,
            "Export des tickets clients".to_owned(),
        );
        text_at(
            &mut ops,
            MARGIN,
            PAGE_H - 19.5,
            BuiltinFont::Helvetica,
            8.0,
            format!(
                "Généré le {} UTC - {} ticket{}",
                generated_at.format("%d/%m/%Y %H:%M"),
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            ),
        );
        // Header band.
        fill_rect(
            &mut ops,
            MARGIN,
            TABLE_TOP - ROW_MM + 0.2,
            usable,
            ROW_MM,
            rgb(0.88, 0.90, 0.94),
        );
        let mut x = MARGIN;
        for (field, width) in fields.iter().zip(&widths) {
            text_at(
                &mut ops,
                x + 0.8,
                TABLE_TOP - ROW_MM + 1.5,
                BuiltinFont::HelveticaBold,
                FONT_PT,
                fit(field.name(), *width),
            );
            x += width;
        }
        ops.push(Op::SetOutlineColor {
            col: rgb(0.75, 0.77, 0.80),
        });
        ops.push(Op::SetOutlineThickness { pt: Pt(0.4) });
        hline(&mut ops, TABLE_TOP - ROW_MM + 0.2);
        let mut y = TABLE_TOP - ROW_MM;
        for row in *chunk {
            y -= ROW_MM;
            let mut x = MARGIN;
            for (field, width) in fields.iter().zip(&widths) {
                let text = match field.cell(row) {
                    Cell::Text(text) => neutralize(&text),
                    Cell::Number(n) => n.to_string(),
                };
                text_at(
                    &mut ops,
                    x + 0.8,
                    y + 1.5,
                    BuiltinFont::Helvetica,
                    FONT_PT,
                    fit(&text, *width),
                );
                x += width;
            }
            hline(&mut ops, y + 0.2);
        }
        text_at(
            &mut ops,
            PAGE_W - MARGIN - 22.0,
            7.0,
            BuiltinFont::Helvetica,
            7.0,
            format!("Page {} / {page_count}", index + 1),
        );
        pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops));
    }
    let mut warnings = Vec::new();
    PdfDocument::new("Export des tickets clients")
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings)
}
