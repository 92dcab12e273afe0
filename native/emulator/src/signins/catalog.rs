//! One tenant's sign-ins and the query engine over them.
//!
//! Four streams, each ordered newest first: the literal items (stream 0, a sorted vector) and
//! the three generated event-type streams (1–3, computed). A page merges the streams by
//! `createdDateTime`; ties go to the lower stream number, then the lower index, which makes
//! the order total and stable. A cursor is one position per stream, so a page can start
//! anywhere without replaying earlier ones.
//!
//! Filtering is efficient where it can be: top-level `createdDateTime` comparisons (and the
//! retention window) become index ranges by binary search, top-level event-type conditions
//! pick streams, and only the remaining conditions are evaluated record by record.

use serde_json::{Map, Value};

use serde::Serialize;
use serde::ser::{SerializeMap as _, Serializer};

use super::ApiVersion;
use super::draft::{DraftView, Mask};
use super::fields::{EVENT_TYPES, Field, SignInFields, Val};
use super::generator::{Core, GenRecord, Generated};
use super::literal::LiteralSignIn;
use super::props::{self, PropId};
use crate::graph::filter::{CmpOp, Expr, Filter, Lit, Operand};

pub const STREAMS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Premium {
    None,
    P1,
    P2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newest first (Graph's default).
    Desc,
    Asc,
}

/// A position in the merged sequence: per stream, the next index to look at (descending
/// order) or the exclusive upper bound of the indices still to look at (ascending order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub pos: [u64; STREAMS],
}

impl Cursor {
    pub fn start(order: Order) -> Self {
        Cursor {
            pos: match order {
                Order::Desc => [0; STREAMS],
                Order::Asc => [u64::MAX; STREAMS],
            },
        }
    }
}

/// What a query looks for, with the parts that can be answered without looking at records
/// already worked out.
#[derive(Debug)]
pub struct Plan<'f> {
    pub order: Order,
    filter: Option<&'f Filter>,
    /// Inclusive time bounds (ms): retention window ∩ `createdDateTime` conditions.
    lo: i64,
    hi: i64,
    /// Generated streams that can match.
    streams: [bool; 3],
    /// Conditions generated records must still be checked against.
    residual: Vec<&'f Expr>,
    /// v1.0, or beta without a `signInEventTypes` condition: interactive sign-ins only
    /// (api-contracts §3.1).
    interactive_only: bool,
}

impl<'f> Plan<'f> {
    /// `window` is `(oldest visible, newest visible)` in ms.
    pub fn new(
        filter: Option<&'f Filter>,
        version: ApiVersion,
        order: Order,
        window: (i64, i64),
    ) -> Self {
        let interactive_only = version == ApiVersion::V1
            || !filter.is_some_and(|f| f.mentions(Field::SignInEventTypes));
        let mut plan = Plan {
            order,
            filter,
            lo: window.0,
            hi: window.1,
            streams: if interactive_only {
                [true, false, false]
            } else {
                [true; 3]
            },
            residual: Vec::new(),
            interactive_only,
        };
        let Some(filter) = filter else {
            return plan;
        };
        for conj in filter.conjuncts() {
            if let Some((lo, hi)) = time_bounds(conj) {
                plan.lo = plan.lo.max(lo);
                plan.hi = plan.hi.min(hi);
                // One comparison is its bound; time ranges joined by `or` (several windows read
                // in one request) bound only their hull, and each record is checked against them.
                if matches!(conj, Expr::Cmp { .. }) {
                    continue;
                }
            }
            let (mask, exact) = event_types(conj);
            for (s, m) in plan.streams.iter_mut().zip(mask) {
                *s &= m;
            }
            if !exact {
                plan.residual.push(conj);
            }
        }
        plan
    }

    fn matches_literal(&self, lit: &LiteralSignIn) -> bool {
        (lit.ts_ms >= self.lo && lit.ts_ms <= self.hi)
            && (!self.interactive_only || lit.event_types().any(|t| t == "interactiveUser"))
            && self.filter.is_none_or(|f| f.matches(lit))
    }

    fn matches_generated(&self, rec: &GenRecord<'_>) -> bool {
        self.residual.iter().all(|e| e.eval(rec, None))
    }
}

/// The inclusive `createdDateTime` bounds (ms) outside which `e` cannot hold, when its time
/// conditions say (an `or` bounds only when both sides do).
fn time_bounds(e: &Expr) -> Option<(i64, i64)> {
    match e {
        Expr::Cmp {
            lhs: Operand::Field(Field::CreatedDateTime),
            op,
            rhs: Lit::Time(t),
        } => match op {
            CmpOp::Eq => Some((*t, *t)),
            CmpOp::Ge => Some((*t, i64::MAX)),
            CmpOp::Gt => Some((t.saturating_add(1), i64::MAX)),
            CmpOp::Le => Some((i64::MIN, *t)),
            CmpOp::Lt => Some((i64::MIN, t.saturating_sub(1))),
            CmpOp::Ne => None,
        },
        Expr::And(a, b) => match (time_bounds(a), time_bounds(b)) {
            (Some((la, ha)), Some((lb, hb))) => Some((la.max(lb), ha.min(hb))),
            (one, None) | (None, one) => one,
        },
        Expr::Or(a, b) => {
            let ((la, ha), (lb, hb)) = (time_bounds(a)?, time_bounds(b)?);
            Some((la.min(lb), ha.max(hb)))
        }
        _ => None,
    }
}

/// Which generated streams a condition can hold for, and whether it holds for every record of
/// those streams (so it need not be evaluated per record). Generated records have exactly one
/// event type and `isInteractive` is true exactly for the interactive stream.
fn event_types(e: &Expr) -> ([bool; 3], bool) {
    const ALL: [bool; 3] = [true; 3];
    match e {
        Expr::Any {
            field: Field::SignInEventTypes,
            body,
        } if !mentions_fields(body) => {
            let mut mask = [false; 3];
            for (s, name) in EVENT_TYPES.iter().take(3).enumerate() {
                mask[s] = body.eval(&NoFields, Some(name));
            }
            (mask, true)
        }
        Expr::Cmp {
            lhs: Operand::Field(Field::IsInteractive),
            op,
            rhs: Lit::Bool(b),
        } => {
            let want = (*op == CmpOp::Eq) == *b;
            ([want, !want, !want], true)
        }
        Expr::And(a, b) => {
            let (ma, ea) = event_types(a);
            let (mb, eb) = event_types(b);
            ([ma[0] && mb[0], ma[1] && mb[1], ma[2] && mb[2]], ea && eb)
        }
        Expr::Or(a, b) => {
            let (ma, ea) = event_types(a);
            let (mb, eb) = event_types(b);
            ([ma[0] || mb[0], ma[1] || mb[1], ma[2] || mb[2]], ea && eb)
        }
        _ => (ALL, false),
    }
}

fn mentions_fields(e: &Expr) -> bool {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => mentions_fields(a) || mentions_fields(b),
        Expr::Not(x) => mentions_fields(x),
        Expr::Cmp { lhs, .. } => *lhs != Operand::Var,
        Expr::StartsWith { operand, .. } => *operand != Operand::Var,
        Expr::Any { .. } => true,
    }
}

struct NoFields;

impl SignInFields for NoFields {
    fn field(&self, _: Field) -> Val<'_> {
        Val::Null
    }
}

/// A record found by a query.
#[derive(Debug, Clone, Copy)]
pub enum Hit {
    Literal(usize),
    Generated(Core),
}

#[derive(Debug)]
pub struct Page {
    pub hits: Vec<Hit>,
    /// Where the next page starts; `None` when nothing more matches.
    pub next: Option<Cursor>,
}

#[derive(Debug)]
pub struct TenantSignIns {
    pub tenant_id: String,
    pub premium: Premium,
    /// Sorted newest first.
    literals: Vec<LiteralSignIn>,
    generated: Option<Generated>,
}

impl TenantSignIns {
    pub fn new(
        tenant_id: String,
        premium: Premium,
        mut literals: Vec<LiteralSignIn>,
        generated: Option<Generated>,
    ) -> Self {
        // Stable: items with the same time keep their scenario order.
        literals.sort_by_key(|l| std::cmp::Reverse(l.ts_ms));
        Self {
            tenant_id,
            premium,
            literals,
            generated,
        }
    }

    /// Records stored or generated, whatever their age.
    pub fn total(&self) -> u64 {
        self.literals.len() as u64
            + self
                .generated
                .as_ref()
                .map_or(0, |g| (0..3).map(|s| g.count(s)).sum())
    }

    fn len(&self, stream: usize) -> u64 {
        match stream {
            0 => self.literals.len() as u64,
            s => self.generated.as_ref().map_or(0, |g| g.count(s - 1)),
        }
    }

    fn ts(&self, stream: usize, i: u64) -> i64 {
        match stream {
            0 => self.literals[i as usize].ts_ms,
            s => self.generated.as_ref().map_or(0, |g| g.ts(s - 1, i)),
        }
    }

    /// Per stream, the index range `[a, b)` inside the plan's time bounds.
    fn ranges(&self, plan: &Plan<'_>) -> [(u64, u64); STREAMS] {
        let mut out = [(0, 0); STREAMS];
        if plan.lo > plan.hi {
            return out;
        }
        let a = self.literals.partition_point(|l| l.ts_ms > plan.hi) as u64;
        let b = self.literals.partition_point(|l| l.ts_ms >= plan.lo) as u64;
        out[0] = (a, b.max(a));
        if let Some(g) = &self.generated {
            for s in 0..3 {
                if plan.streams[s] {
                    out[s + 1] = g.range(s, plan.lo, plan.hi);
                }
            }
        }
        out
    }

    /// Whether the record at `(stream, i)` matches; the generated core is returned for reuse.
    fn test(&self, plan: &Plan<'_>, stream: usize, i: u64) -> Option<Hit> {
        if stream == 0 {
            let lit = &self.literals[i as usize];
            return plan
                .matches_literal(lit)
                .then_some(Hit::Literal(i as usize));
        }
        let g = self.generated.as_ref()?;
        let core = g.core(stream - 1, i);
        if plan.residual.is_empty() {
            return Some(Hit::Generated(core));
        }
        let rec = GenRecord { gen_: g, core };
        plan.matches_generated(&rec).then_some(Hit::Generated(core))
    }

    /// Up to `top` matches from `cursor` on. Looks at no more than `scan_limit` candidates;
    /// when that runs out first the page is short and `next` continues the scan (Graph, too,
    /// may return short or empty pages with a next link).
    pub fn page(&self, plan: &Plan<'_>, cursor: Cursor, top: usize, scan_limit: u64) -> Page {
        let ranges = self.ranges(plan);
        let desc = plan.order == Order::Desc;
        let mut pos = [0u64; STREAMS];
        for s in 0..STREAMS {
            let (a, b) = ranges[s];
            pos[s] = cursor.pos[s].clamp(a, b);
        }
        let head = |s: usize, p: u64| -> Option<(i64, u64)> {
            let (a, b) = ranges[s];
            let i = if desc {
                (p < b).then_some(p)?
            } else {
                (p > a).then(|| p - 1)?
            };
            Some((self.ts(s, i), i))
        };
        let mut heads: [Option<(i64, u64)>; STREAMS] = [None; STREAMS];
        for s in 0..STREAMS {
            heads[s] = head(s, pos[s]);
        }
        let mut hits = Vec::with_capacity(top.min(1024));
        let mut scanned = 0u64;
        loop {
            // Newest head (ties: lowest stream) going down; the mirror image going up.
            let mut pick: Option<usize> = None;
            for s in 0..STREAMS {
                let Some((t, _)) = heads[s] else { continue };
                pick = match pick {
                    None => Some(s),
                    Some(p) => {
                        let (pt, _) = heads[p].unwrap_or((0, 0));
                        let better = if desc { t > pt } else { t <= pt };
                        if better { Some(s) } else { Some(p) }
                    }
                };
            }
            let Some(s) = pick else {
                return Page { hits, next: None };
            };
            if scanned >= scan_limit {
                return Page {
                    hits,
                    next: Some(Cursor { pos }),
                };
            }
            let (_, i) = heads[s].unwrap_or((0, 0));
            scanned += 1;
            if let Some(hit) = self.test(plan, s, i) {
                if hits.len() == top {
                    // Another match exists: the next page starts at it.
                    return Page {
                        hits,
                        next: Some(Cursor { pos }),
                    };
                }
                hits.push(hit);
            }
            pos[s] = if desc { i + 1 } else { i };
            heads[s] = head(s, pos[s]);
        }
    }

    /// How many records the plan matches in total.
    pub fn count(&self, plan: &Plan<'_>) -> u64 {
        let ranges = self.ranges(plan);
        let mut n = 0;
        for (s, &(a, b)) in ranges.iter().enumerate() {
            if s > 0 && plan.residual.is_empty() {
                n += b - a;
                continue;
            }
            n += (a..b).filter(|&i| self.test(plan, s, i).is_some()).count() as u64;
        }
        n
    }

    /// The record with this id, if visible in `window` (v1.0 sees interactive ones only).
    pub fn find(&self, id: &str, version: ApiVersion, window: (i64, i64)) -> Option<Hit> {
        let plan = Plan::new(None, version, Order::Desc, window);
        let visible = |s: usize, i: u64| {
            let t = self.ts(s, i);
            t >= window.0 && t <= window.1
        };
        if let Some(i) = self
            .literals
            .iter()
            .position(|l| l.id().eq_ignore_ascii_case(id))
        {
            return (visible(0, i as u64) && plan.matches_literal(&self.literals[i]))
                .then_some(Hit::Literal(i));
        }
        let g = self.generated.as_ref()?;
        let (s, i) = g.locate(id)?;
        (visible(s + 1, i) && plan.streams[s]).then(|| Hit::Generated(g.core(s, i)))
    }

    /// The JSON object of `hit` with the properties `wanted`, in that order.
    pub fn render(&self, hit: &Hit, wanted: &[PropId]) -> Map<String, Value> {
        match hit {
            Hit::Literal(i) => {
                let json = &self.literals[*i].json;
                let mut map = Map::with_capacity(wanted.len());
                for &p in wanted {
                    let name = props::name(p);
                    map.insert(
                        name.to_owned(),
                        json.get(name).cloned().unwrap_or(Value::Null),
                    );
                }
                map
            }
            Hit::Generated(core) => match &self.generated {
                Some(g) => g.draft(core).to_map(wanted),
                None => Map::new(),
            },
        }
    }

    /// Appends `hit` as JSON with the properties in `mask` (canonical order) to `out`.
    pub fn write(&self, hit: &Hit, mask: &Mask, out: &mut Vec<u8>) -> serde_json::Result<()> {
        match hit {
            Hit::Literal(i) => serde_json::to_writer(
                out,
                &LiteralView {
                    json: &self.literals[*i].json,
                    mask,
                },
            ),
            Hit::Generated(core) => match &self.generated {
                Some(g) => serde_json::to_writer(
                    out,
                    &DraftView {
                        draft: &g.draft(core),
                        mask,
                    },
                ),
                None => Ok(()),
            },
        }
    }

    /// Stream lengths, for diagnostics.
    pub fn stream_lengths(&self) -> [u64; STREAMS] {
        [self.len(0), self.len(1), self.len(2), self.len(3)]
    }
}

/// A literal record's stored JSON, limited to `mask`, in canonical order.
struct LiteralView<'a> {
    json: &'a Map<String, Value>,
    mask: &'a Mask,
}

impl Serialize for LiteralView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (i, (name, _)) in props::PROPS.iter().enumerate() {
            if self.mask[i] {
                map.serialize_entry(name, self.json.get(*name).unwrap_or(&Value::Null))?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis()
    }

    /// The plan's scan bounds, its residual's length, and whether an `or` stays in the residual.
    fn planned(filter: &str) -> (i64, i64, usize, bool) {
        let f = Filter::parse(filter, ApiVersion::V1).expect("parses");
        let plan = Plan::new(Some(&f), ApiVersion::V1, Order::Desc, (0, i64::MAX));
        let or_checked = plan.residual.iter().any(|e| matches!(e, Expr::Or(..)));
        (plan.lo, plan.hi, plan.residual.len(), or_checked)
    }

    #[test]
    fn a_time_comparison_bounds_the_scan_by_itself() {
        let (a, b) = (ms("2024-05-01T00:00:00Z"), ms("2024-05-02T00:00:00Z"));
        assert_eq!(planned("createdDateTime gt 2024-05-01T00:00:00Z and createdDateTime le 2024-05-02T00:00:00Z"), (a + 1, b, 0, false));
        assert_eq!(planned("createdDateTime ge 2024-05-01T00:00:00Z and createdDateTime lt 2024-05-02T00:00:00Z"), (a, b - 1, 0, false));
        assert_eq!(planned("createdDateTime eq 2024-05-01T00:00:00Z"), (a, a, 0, false));
        // As Graph, `ne` on the time is refused (so it never reaches a plan).
        assert!(Filter::parse("createdDateTime ne 2024-05-01T00:00:00Z", ApiVersion::V1).is_err());
    }

    #[test]
    fn ranges_joined_by_or_bound_the_scan_by_their_hull() {
        let (lo, hi, _, or_checked) = planned("((createdDateTime ge 2024-05-02T00:00:00Z and createdDateTime lt 2024-05-02T10:00:01Z) or (createdDateTime ge 2024-05-01T00:00:00Z and createdDateTime le 2024-05-01T06:00:00Z)) and clientAppUsed eq 'IMAP4'");
        assert_eq!((lo, hi), (ms("2024-05-01T00:00:00Z"), ms("2024-05-02T10:00:01Z") - 1));
        // The `or` is still checked against every record: the gap between its ranges is inside the hull.
        assert!(or_checked);
        // A side without a time condition bounds nothing.
        let (lo, hi, _, or_checked) = planned("createdDateTime ge 2024-05-02T00:00:00Z or userId eq 'a'");
        assert_eq!((lo, hi), (0, i64::MAX));
        assert!(or_checked);
    }
}
