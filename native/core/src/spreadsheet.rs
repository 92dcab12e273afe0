//! CSV meant for spreadsheets (sign-in exports, assessment reports): what Excel needs to read it
//! as the data it is. One place, so both files follow the same rules.

use std::borrow::Cow;

/// Starts every CSV file: without it Excel reads UTF-8 in the system's ANSI code page, and names
/// such as "Yılmaz" or "Müller" arrive garbled. Import-Csv, pandas and the csv crate skip it.
pub const UTF8_BOM: &str = "\u{feff}";

/// Text from a tenant (names, reasons, evidence) as a CSV cell. A spreadsheet runs a cell that
/// starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula (CSV injection), so
/// such text gets a leading `'`, which keeps it as text.
pub fn text_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { Cow::Owned(format!("'{text}")) } else { Cow::Borrowed(text) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_kept_as_text() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(text_cell(formula), format!("'{formula}"));
        }
        assert!(matches!(text_cell("admin@contoso.com"), Cow::Borrowed("admin@contoso.com")));
        assert_eq!(text_cell(""), "");
    }

    #[test]
    fn the_byte_order_mark_is_utf8s() {
        assert_eq!(UTF8_BOM.as_bytes(), b"\xEF\xBB\xBF");
    }
}
