//! The HTML report: one self-contained page (inline CSS, no scripts, no external assets), a
//! summary by requirement, then every finding with its evidence and remediation. Counts carry
//! element ids (`count-Fail`, `req-MfaCoverage`) so tests can read them from the rendered DOM.

use super::{Assessment, worst};
use crate::checks::Status;
use chrono::SecondsFormat;
use std::fmt::Write;

const STYLE: &str = "body{font-family:Segoe UI,Helvetica,Arial,sans-serif;margin:2rem;color:#1b1b1b;background:#fafafa}\
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem}.meta{color:#555}\
.tiles{display:flex;gap:1rem;margin:1.2rem 0}.tile{padding:.8rem 1.2rem;border-radius:6px;color:#fff;min-width:6rem}\
.tile b{display:block;font-size:1.8rem}table{border-collapse:collapse;width:100%;background:#fff}\
th,td{border:1px solid #ddd;padding:.4rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}th{background:#eee}\
.s{font-weight:600;border-radius:4px;padding:.1rem .4rem;color:#fff;white-space:nowrap}\
.Pass{background:#2e7d32}.Warn{background:#b26a00}.Fail{background:#c62828}.Error{background:#6a1b9a}.NotApplicable{background:#757575}";

const ORDER: [Status; 5] = [
    Status::Fail,
    Status::Error,
    Status::Warn,
    Status::Pass,
    Status::NotApplicable,
];

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn html(a: &Assessment) -> String {
    let counts = a.counts();
    let mut p = String::new();
    let _ = write!(
        p,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Partner security assessment: {t}</title><style>{STYLE}</style></head><body>\
<h1>Partner security assessment</h1><p class=\"meta\">Tenant <b id=\"tenant\">{t}</b> · {when} · {n} findings</p><div class=\"tiles\">",
        t = escape(&a.tenant),
        when = a.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        n = a.findings.len()
    );
    for s in ORDER {
        let _ = write!(
            p,
            "<div class=\"tile {0}\"><b id=\"count-{0}\">{1}</b>{0}</div>",
            s.name(),
            counts.get(&s).copied().unwrap_or(0)
        );
    }
    p.push_str("</div><h2>Summary by requirement</h2><table id=\"summary\"><tr><th>Requirement</th><th>Check</th><th>Status</th>");
    for s in ORDER {
        let _ = write!(p, "<th>{}</th>", s.name());
    }
    p.push_str("</tr>");
    for (check, status, c) in a.by_requirement() {
        let _ = write!(
            p,
            "<tr id=\"req-{0}\"><td>{1}</td><td>{0}</td><td><span class=\"s {2}\">{2}</span></td>",
            check.name(),
            escape(check.requirement()),
            status.name()
        );
        for s in ORDER {
            let _ = write!(p, "<td>{}</td>", c.get(&s).copied().unwrap_or(0));
        }
        p.push_str("</tr>");
    }
    p.push_str("</table>");
    for (check, status, _) in a.by_requirement() {
        let _ = write!(
            p,
            "<h2 id=\"findings-{0}\">{1} <span class=\"s {2}\">{2}</span></h2><table><tr><th>Status</th><th>Severity</th><th>Subject</th><th>Finding</th><th>Evidence</th><th>Remediation</th></tr>",
            check.name(),
            escape(check.requirement()),
            status.name()
        );
        let mut rows: Vec<_> = a.findings.iter().filter(|f| f.check == check).collect();
        rows.sort_by_key(|f| ORDER.iter().position(|s| *s == f.status));
        for f in rows {
            let _ = write!(
                p,
                "<tr><td><span class=\"s {0}\">{0}</span></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5}</td></tr>",
                f.status.name(),
                f.severity.name(),
                escape(&f.subject),
                escape(&f.id),
                escape(&f.evidence),
                escape(&f.remediation)
            );
        }
        p.push_str("</table>");
    }
    let overall = worst(&counts);
    let _ = write!(
        p,
        "<p class=\"meta\">Overall: <span id=\"overall\" class=\"s {0}\">{0}</span></p></body></html>",
        overall.name()
    );
    p
}
