//! The invoice PDF: A4 portrait, seller and client blocks, number and dates, the lines, VAT
//! per rate, totals, what was paid and what is left, and how to pay.

use chrono::NaiveDate;
use printpdf::{BuiltinFont, Mm, Op, PdfDocument, PdfPage, PdfSaveOptions, Pt};
use shared::pdf::{fill_rect, fit, hline, rgb, text_at, text_right};

use super::InvoiceDetail;
use crate::text::money;

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 15.0;
const ROW_MM: f32 = 6.0;
const BODY_PT: f32 = 9.0;
const LINES_BOTTOM: f32 = 95.0;

/// Column right edges / left starts (mm).
const COL_DESC: f32 = MARGIN + 1.0;
const COL_QTY_R: f32 = 118.0;
const COL_PRICE_R: f32 = 143.0;
const COL_VAT_R: f32 = 160.0;
const COL_TOTAL_R: f32 = PAGE_W - MARGIN - 1.0;

fn status_label(detail: &InvoiceDetail) -> &'static str {
    use entity::invoice::InvoiceStatus;
    match detail.invoice.status {
        InvoiceStatus::Paid => "PAYÉE",
        InvoiceStatus::Cancelled => "ANNULÉE",
        _ if detail.invoice.overdue => "EN RETARD",
        InvoiceStatus::PartiallyPaid => "PARTIELLEMENT PAYÉE",
        _ => "À PAYER",
    }
}

fn block(ops: &mut Vec<Op>, x: f32, mut y: f32, title: &str, lines: &[String]) {
    text_at(
        ops,
        x,
        y,
        BuiltinFont::HelveticaBold,
        10.0,
        title.to_owned(),
    );
    for line in lines {
        y -= 4.6;
        text_at(
            ops,
            x,
            y,
            BuiltinFont::Helvetica,
            BODY_PT,
            fit(line, 85.0, BODY_PT),
        );
    }
}

fn party_lines(party: &super::PartyView) -> Vec<String> {
    let mut lines = vec![party.name.clone()];
    if let Some(address) = &party.address {
        lines.extend(address.lines().map(str::to_owned));
    }
    if let Some(vat) = &party.vat_number {
        lines.push(format!("TVA : {vat}"));
    }
    if let Some(reg) = &party.registration {
        lines.push(format!("SIRET : {reg}"));
    }
    if let Some(email) = &party.email {
        lines.push(email.clone());
    }
    lines
}

fn header(ops: &mut Vec<Op>) -> f32 {
    let top = PAGE_H - 112.0;
    fill_rect(
        ops,
        MARGIN,
        top - 1.8,
        PAGE_W - 2.0 * MARGIN,
        ROW_MM,
        rgb(0.88, 0.90, 0.94),
    );
    let y = top;
    text_at(
        ops,
        COL_DESC,
        y,
        BuiltinFont::HelveticaBold,
        BODY_PT,
        "Désignation".into(),
    );
    text_right(
        ops,
        COL_QTY_R,
        y,
        BuiltinFont::HelveticaBold,
        BODY_PT,
        "Qté".into(),
    );
    text_right(
        ops,
        COL_PRICE_R,
        y,
        BuiltinFont::HelveticaBold,
        BODY_PT,
        "PU HT".into(),
    );
    text_right(
        ops,
        COL_VAT_R,
        y,
        BuiltinFont::HelveticaBold,
        BODY_PT,
        "TVA".into(),
    );
    text_right(
        ops,
        COL_TOTAL_R,
        y,
        BuiltinFont::HelveticaBold,
        BODY_PT,
        "Total HT".into(),
    );
    top - 1.8
}

/// The PDF's bytes.
#[must_use]
pub fn render(detail: &InvoiceDetail, today: NaiveDate) -> Vec<u8> {
    let inv = &detail.invoice;
    let cur = inv.currency.as_str();
    let mut pages = Vec::new();
    let mut ops = Vec::new();
    // Title and identity blocks.
    block(
        &mut ops,
        MARGIN,
        PAGE_H - 20.0,
        "Émetteur",
        &party_lines(&detail.seller),
    );
    text_right(
        &mut ops,
        PAGE_W - MARGIN,
        PAGE_H - 20.0,
        BuiltinFont::HelveticaBold,
        18.0,
        "FACTURE".into(),
    );
    text_right(
        &mut ops,
        PAGE_W - MARGIN,
        PAGE_H - 28.0,
        BuiltinFont::HelveticaBold,
        11.0,
        format!("N° {}", inv.number),
    );
    text_right(
        &mut ops,
        PAGE_W - MARGIN,
        PAGE_H - 34.0,
        BuiltinFont::Helvetica,
        BODY_PT,
        format!("Date d'émission : {}", inv.issue_date.format("%d/%m/%Y")),
    );
    text_right(
        &mut ops,
        PAGE_W - MARGIN,
        PAGE_H - 39.0,
        BuiltinFont::Helvetica,
        BODY_PT,
        format!("Échéance : {}", inv.due_date.format("%d/%m/%Y")),
    );
    text_right(
        &mut ops,
        PAGE_W - MARGIN,
        PAGE_H - 46.0,
        BuiltinFont::HelveticaBold,
        10.0,
        status_label(detail).into(),
    );
    block(
        &mut ops,
        115.0,
        PAGE_H - 62.0,
        "Client",
        &party_lines(&detail.client),
    );

    let mut y = header(&mut ops);
    ops.push(Op::SetOutlineColor {
        col: rgb(0.75, 0.77, 0.80),
    });
    ops.push(Op::SetOutlineThickness { pt: Pt(0.4) });
    for line in &detail.lines {
        if y - ROW_MM < LINES_BOTTOM {
            pages.push(PdfPage::new(
                Mm(PAGE_W),
                Mm(PAGE_H),
                std::mem::take(&mut ops),
            ));
            text_at(
                &mut ops,
                MARGIN,
                PAGE_H - 20.0,
                BuiltinFont::HelveticaBold,
                11.0,
                format!("Facture {} (suite)", inv.number),
            );
            y = header(&mut ops);
        }
        y -= ROW_MM;
        let base = y + 1.8;
        text_at(
            &mut ops,
            COL_DESC,
            base,
            BuiltinFont::Helvetica,
            BODY_PT,
            fit(&line.description, 85.0, BODY_PT),
        );
        text_right(
            &mut ops,
            COL_QTY_R,
            base,
            BuiltinFont::Helvetica,
            BODY_PT,
            line.quantity.replace('.', ","),
        );
        text_right(
            &mut ops,
            COL_PRICE_R,
            base,
            BuiltinFont::Helvetica,
            BODY_PT,
            money(line.unit_price_cents, cur),
        );
        text_right(
            &mut ops,
            COL_VAT_R,
            base,
            BuiltinFont::Helvetica,
            BODY_PT,
            format!("{} %", line.vat_rate.replace('.', ",")),
        );
        text_right(
            &mut ops,
            COL_TOTAL_R,
            base,
            BuiltinFont::Helvetica,
            BODY_PT,
            money(line.total_ht_cents, cur),
        );
        hline(&mut ops, MARGIN, PAGE_W - MARGIN, y);
    }

    // VAT per rate, then totals.
    let mut y = LINES_BOTTOM - 6.0;
    text_at(
        &mut ops,
        MARGIN,
        y,
        BuiltinFont::HelveticaBold,
        BODY_PT,
        "TVA par taux".into(),
    );
    for vat in &detail.vat_breakdown {
        y -= 4.8;
        text_at(
            &mut ops,
            MARGIN,
            y,
            BuiltinFont::Helvetica,
            BODY_PT,
            format!(
                "{} % sur {} : {}",
                vat.rate.replace('.', ","),
                money(vat.base_cents, cur),
                money(vat.vat_cents, cur)
            ),
        );
    }
    let mut y = LINES_BOTTOM - 6.0;
    let rows = [
        ("Total HT", money(inv.subtotal_cents, cur), false),
        ("Total TVA", money(inv.vat_cents, cur), false),
        ("Total TTC", money(inv.total_cents, cur), true),
        ("Déjà réglé", money(inv.paid_cents, cur), false),
        ("Reste à payer", money(inv.balance_due_cents, cur), true),
    ];
    for (label, amount, bold) in rows {
        let font = if bold {
            BuiltinFont::HelveticaBold
        } else {
            BuiltinFont::Helvetica
        };
        text_at(&mut ops, 125.0, y, font, 10.0, label.to_owned());
        text_right(&mut ops, COL_TOTAL_R, y, font, 10.0, amount);
        y -= 5.5;
    }

    // How to pay.
    let mut y = 40.0;
    if inv.balance_due_cents > 0 {
        let mut lines = vec![format!(
            "Paiement par virement avant le {} en indiquant la référence {}.",
            inv.due_date.format("%d/%m/%Y"),
            inv.number
        )];
        if let Some(iban) = &detail.seller.iban {
            lines.push(format!("IBAN : {iban}"));
        }
        for line in lines {
            text_at(&mut ops, MARGIN, y, BuiltinFont::Helvetica, BODY_PT, line);
            y -= 4.8;
        }
    }
    if let Some(notes) = &detail.notes {
        text_at(
            &mut ops,
            MARGIN,
            y - 2.0,
            BuiltinFont::Helvetica,
            BODY_PT,
            fit(notes, PAGE_W - 2.0 * MARGIN, BODY_PT),
        );
    }
    text_at(
        &mut ops,
        MARGIN,
        12.0,
        BuiltinFont::Helvetica,
        7.0,
        format!(
            "{} - document généré le {}. En cas de retard, pénalités au taux légal et indemnité forfaitaire de 40 € pour frais de recouvrement.",
            detail.seller.name,
            today.format("%d/%m/%Y")
        ),
    );
    pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops));
    let mut warnings = Vec::new();
    PdfDocument::new(&format!("Facture {}", inv.number))
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings)
}
