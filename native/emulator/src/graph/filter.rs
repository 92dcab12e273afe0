//! A recursive-descent parser and evaluator for the OData `$filter` subset Graph accepts on
//! `auditLogs/signIns` (api-contracts §3.2).
//!
//! Grammar (operators and `and`/`or`/`not` are lowercase as in OData; property and function
//! names are case-insensitive as Graph treats them):
//!
//! ```text
//! expr       = and_expr *( "or" and_expr )
//! and_expr   = unary *( "and" unary )
//! unary      = "not" unary / primary
//! primary    = "(" expr ")"
//!            / "startswith" "(" operand "," string ")"
//!            / path "/any(" ident ":" expr ")"           ; lambda over a collection
//!            / operand op literal                         ; op = eq ne gt ge lt le
//! operand    = path / lambda-variable
//! literal    = 'string' ('' escapes a quote) / integer / true / false
//!            / DateTimeOffset (unquoted, RFC 3339: 2024-01-01T00:00:00Z)
//! ```
//!
//! Every failure is a client error: syntax errors, unknown properties and type mismatches get
//! `BadRequest`; valid OData the sign-in API does not support (an operator or function on a
//! property that does not allow it, a beta property on v1.0) gets `Request_UnsupportedQuery`.
//! Messages start with "Invalid filter clause: ". Input size and nesting are bounded so hostile
//! input cannot exhaust the stack.

use std::borrow::Cow;

use chrono::DateTime;

use crate::signins::ApiVersion;
use crate::signins::fields::{
    Field, FieldDef, FieldType, OP_ANY, OP_EQ, OP_NE, OP_ORDER, OP_STARTSWITH, SignInFields, Val,
};
use crate::signins::props;

/// Longest `$filter` accepted.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses / `not` / lambdas accepted.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// `BadRequest` or `Request_UnsupportedQuery`.
    pub code: &'static str,
    pub message: String,
}

fn bad(message: impl Into<String>) -> FilterError {
    FilterError {
        code: "BadRequest",
        message: format!("Invalid filter clause: {}", message.into()),
    }
}

fn unsupported(message: impl Into<String>) -> FilterError {
    FilterError {
        code: "Request_UnsupportedQuery",
        message: format!("Invalid filter clause: {}", message.into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }

    /// The operator kind OData names in its type errors.
    fn kind(self) -> &'static str {
        match self {
            CmpOp::Eq => "Equal",
            CmpOp::Ne => "NotEqual",
            CmpOp::Gt => "GreaterThan",
            CmpOp::Ge => "GreaterThanOrEqual",
            CmpOp::Lt => "LessThan",
            CmpOp::Le => "LessThanOrEqual",
        }
    }

    fn word(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
        }
    }

    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ord == Equal,
            CmpOp::Ne => ord != Equal,
            CmpOp::Gt => ord == Greater,
            CmpOp::Ge => ord != Less,
            CmpOp::Lt => ord == Less,
            CmpOp::Le => ord != Greater,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Int(i64),
    Bool(bool),
    /// Milliseconds since the epoch.
    Time(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    Field(Field),
    /// The lambda variable: one element of the collection `any` ranges over.
    Var,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp { lhs: Operand, op: CmpOp, rhs: Lit },
    StartsWith { operand: Operand, prefix: String },
    Any { field: Field, body: Box<Expr> },
}

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub expr: Expr,
}

impl Filter {
    pub fn parse(text: &str, version: ApiVersion) -> Result<Filter, FilterError> {
        if text.len() > MAX_FILTER_LEN {
            return Err(bad(format!(
                "The filter is longer than {MAX_FILTER_LEN} characters."
            )));
        }
        let tokens = lex(text)?;
        let mut parser = Parser {
            text,
            tokens,
            pos: 0,
            depth: 0,
            version,
            lambda: None,
        };
        if parser.tokens.is_empty() {
            return Err(bad("The $filter expression must not be empty."));
        }
        let expr = parser.expr()?;
        if let Some(tok) = parser.tokens.get(parser.pos) {
            return Err(parser.syntax_at(tok.pos));
        }
        Ok(Filter { expr })
    }

    pub fn matches<R: SignInFields + ?Sized>(&self, record: &R) -> bool {
        self.expr.eval(record, None)
    }

    /// Whether the filter names `field` anywhere.
    pub fn mentions(&self, field: Field) -> bool {
        self.expr.mentions(field)
    }

    /// The top-level conjuncts (`a and (b or c)` → `[a, b or c]`).
    pub fn conjuncts(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        self.expr.collect_conjuncts(&mut out);
        out
    }
}

impl Expr {
    pub fn eval<R: SignInFields + ?Sized>(&self, r: &R, elem: Option<&str>) -> bool {
        match self {
            Expr::And(a, b) => a.eval(r, elem) && b.eval(r, elem),
            Expr::Or(a, b) => a.eval(r, elem) || b.eval(r, elem),
            Expr::Not(e) => !e.eval(r, elem),
            Expr::Cmp { lhs, op, rhs } => {
                let value = operand_value(r, *lhs, elem);
                compare(&value, *op, rhs)
            }
            Expr::StartsWith { operand, prefix } => match operand_value(r, *operand, elem) {
                Val::Str(s) => starts_with_ci(&s, prefix),
                _ => false,
            },
            Expr::Any { field, body } => match r.field(*field) {
                Val::List(items) => items.iter().any(|item| body.eval(r, Some(item))),
                _ => false,
            },
        }
    }

    fn mentions(&self, field: Field) -> bool {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => a.mentions(field) || b.mentions(field),
            Expr::Not(e) => e.mentions(field),
            Expr::Cmp { lhs, .. } => *lhs == Operand::Field(field),
            Expr::StartsWith { operand, .. } => *operand == Operand::Field(field),
            Expr::Any { field: f, body } => *f == field || body.mentions(field),
        }
    }

    fn collect_conjuncts<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            Expr::And(a, b) => {
                a.collect_conjuncts(out);
                b.collect_conjuncts(out);
            }
            other => out.push(other),
        }
    }
}

fn operand_value<'r, R: SignInFields + ?Sized>(
    r: &'r R,
    operand: Operand,
    elem: Option<&'r str>,
) -> Val<'r> {
    match operand {
        Operand::Field(f) => r.field(f),
        Operand::Var => elem.map_or(Val::Null, |e| Val::Str(Cow::Borrowed(e))),
    }
}

fn compare(value: &Val<'_>, op: CmpOp, lit: &Lit) -> bool {
    let ord = match (value, lit) {
        (Val::Str(a), Lit::Str(b)) => {
            let equal = a.eq_ignore_ascii_case(b);
            return match op {
                CmpOp::Eq => equal,
                CmpOp::Ne => !equal,
                _ => op.holds(a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase())),
            };
        }
        (Val::Int(a), Lit::Int(b)) => a.cmp(b),
        (Val::Time(a), Lit::Time(b)) => a.cmp(b),
        (Val::Bool(a), Lit::Bool(b)) => a.cmp(b),
        // A missing value equals nothing and differs from everything.
        _ => return op == CmpOp::Ne,
    };
    op.holds(ord)
}

fn starts_with_ci(value: &str, prefix: &str) -> bool {
    value.len() >= prefix.len()
        && value
            .as_bytes()
            .iter()
            .zip(prefix.as_bytes())
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

// --- lexer ------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Colon,
    Slash,
    Ident(String),
    Str(String),
    /// An unquoted literal that is not an identifier: a number or a DateTimeOffset.
    Bare(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 0-based character position in the filter text.
    pos: usize,
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            ' ' | '\t' | '\r' | '\n' => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            ':' => {
                i += 1;
                Tok::Colon
            }
            '/' => {
                i += 1;
                Tok::Slash
            }
            '\'' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(bad(format!(
                                "There is an unterminated string literal at position {start} in '{text}'."
                            )));
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            value.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            value.push(*ch);
                            i += 1;
                        }
                    }
                }
                Tok::Str(value)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while chars
                    .get(i)
                    .is_some_and(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                {
                    i += 1;
                }
                Tok::Ident(chars[start..i].iter().collect())
            }
            c if c.is_ascii_digit()
                || (matches!(c, '-' | '+')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                i += 1;
                while chars.get(i).is_some_and(|ch| {
                    ch.is_ascii_alphanumeric() || matches!(ch, ':' | '.' | '-' | '+')
                }) {
                    i += 1;
                }
                Tok::Bare(chars[start..i].iter().collect())
            }
            other => {
                return Err(bad(format!(
                    "Syntax error: character '{other}' is not valid at position {start} in '{text}'."
                )));
            }
        };
        out.push(Token { tok, pos: start });
    }
    Ok(out)
}

// --- parser -----------------------------------------------------------------------------

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    version: ApiVersion,
    /// Inside `any(v: ...)`: the variable name and the element type's field.
    lambda: Option<(String, Field)>,
}

impl Parser<'_> {
    fn syntax_at(&self, pos: usize) -> FilterError {
        bad(format!(
            "Syntax error at position {pos} in '{}'.",
            self.text
        ))
    }

    fn syntax_here(&self) -> FilterError {
        let pos = self
            .tokens
            .get(self.pos)
            .map_or(self.text.chars().count(), |t| t.pos);
        self.syntax_at(pos)
    }

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn peek_at(&self, offset: usize) -> Option<&Tok> {
        self.tokens.get(self.pos + offset).map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.tokens.get(self.pos).map(|t| t.tok.clone());
        if tok.is_some() {
            self.pos += 1;
        }
        tok
    }

    fn expect(&mut self, want: &Tok) -> Result<(), FilterError> {
        if self.peek() == Some(want) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax_here())
        }
    }

    fn peek_keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == word)
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(bad(format!(
                "The filter is nested more than {MAX_DEPTH} levels deep."
            )));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and_expr()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        match self.peek() {
            Some(Tok::LParen) => {
                self.pos += 1;
                self.enter()?;
                let inner = self.expr()?;
                self.expect(&Tok::RParen)?;
                self.depth -= 1;
                Ok(inner)
            }
            Some(Tok::Ident(name)) => {
                let name = name.clone();
                if self.peek_at(1) == Some(&Tok::LParen) && !self.is_lambda_var(&name) {
                    return self.function(&name);
                }
                self.comparison_or_lambda()
            }
            _ => Err(self.syntax_here()),
        }
    }

    fn is_lambda_var(&self, name: &str) -> bool {
        self.lambda.as_ref().is_some_and(|(v, _)| v == name)
    }

    fn function(&mut self, name: &str) -> Result<Expr, FilterError> {
        let pos = self.tokens[self.pos].pos;
        if !name.eq_ignore_ascii_case("startswith") {
            if [
                "endswith",
                "contains",
                "substringof",
                "indexof",
                "tolower",
                "toupper",
            ]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name))
            {
                return Err(unsupported(format!(
                    "The function '{name}' is not supported on this resource."
                )));
            }
            return Err(bad(format!(
                "An unknown function with name '{name}' was found at position {pos} in '{}'.",
                self.text
            )));
        }
        self.pos += 2; // name and '('
        let operand = self.operand()?;
        self.expect(&Tok::Comma)?;
        let prefix = match self.next() {
            Some(Tok::Str(s)) => s,
            _ => {
                return Err(bad(
                    "The second argument of startswith must be a string literal.",
                ));
            }
        };
        self.expect(&Tok::RParen)?;
        match operand {
            Operand::Var => {}
            Operand::Field(f) => {
                let def = f.def();
                if def.ty != FieldType::Str {
                    return Err(bad(format!(
                        "No function signature for the function with name 'startswith' matches the specified arguments. The function signatures considered are: startswith(Edm.String Nullable=true, Edm.String Nullable=true); found {} for '{}'.",
                        def.ty.edm(),
                        def.path
                    )));
                }
                if def.ops & OP_STARTSWITH == 0 {
                    return Err(unsupported_for(def));
                }
            }
        }
        Ok(Expr::StartsWith { operand, prefix })
    }

    /// A property path (`status/errorCode`) or the lambda variable.
    fn operand(&mut self) -> Result<Operand, FilterError> {
        let Some(Tok::Ident(first)) = self.peek().cloned() else {
            return Err(self.syntax_here());
        };
        if self.is_lambda_var(&first) {
            self.pos += 1;
            if self.peek() == Some(&Tok::Slash) {
                return Err(bad(
                    "The lambda variable is a string; it has no properties.",
                ));
            }
            return Ok(Operand::Var);
        }
        let path = self.path()?;
        Ok(Operand::Field(self.resolve(&path)?.field))
    }

    /// Reads `ident ( "/" ident )*`, stopping before a trailing `/any` or `/all`.
    fn path(&mut self) -> Result<String, FilterError> {
        let mut path = String::new();
        loop {
            let Some(Tok::Ident(seg)) = self.peek().cloned() else {
                return Err(self.syntax_here());
            };
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(&seg);
            self.pos += 1;
            let lambda_next = matches!(
                (self.peek(), self.peek_at(1), self.peek_at(2)),
                (Some(Tok::Slash), Some(Tok::Ident(w)), Some(Tok::LParen))
                    if w.eq_ignore_ascii_case("any") || w.eq_ignore_ascii_case("all")
            );
            if self.peek() == Some(&Tok::Slash) && !lambda_next {
                self.pos += 1;
                continue;
            }
            return Ok(path);
        }
    }

    fn resolve(&self, path: &str) -> Result<&'static FieldDef, FilterError> {
        if let Some(def) = Field::lookup(path, self.version) {
            return Ok(def);
        }
        let top = path.split('/').next().unwrap_or(path);
        if props::exists(top, self.version) {
            Err(unsupported(format!(
                "Unsupported or invalid query filter clause specified for property '{path}' of resource 'SignIn'."
            )))
        } else {
            Err(bad(format!(
                "Could not find a property named '{top}' on type 'microsoft.graph.signIn'."
            )))
        }
    }

    fn comparison_or_lambda(&mut self) -> Result<Expr, FilterError> {
        let operand = if self
            .peek()
            .is_some_and(|t| matches!(t, Tok::Ident(n) if self.is_lambda_var(n)))
        {
            self.operand()?
        } else {
            let path = self.path()?;
            let def = self.resolve(&path)?;
            if self.peek() == Some(&Tok::Slash) {
                return self.lambda(def);
            }
            if def.ty == FieldType::StrList {
                return Err(bad(format!(
                    "The collection property '{}' can only be filtered with any(), e.g. {}/any(t: t eq 'value').",
                    def.path, def.path
                )));
            }
            Operand::Field(def.field)
        };
        let op_pos = self.tokens.get(self.pos).map(|t| t.pos);
        let op = match self.next() {
            Some(Tok::Ident(word)) => CmpOp::parse(&word).ok_or_else(|| match op_pos {
                Some(p) => self.syntax_at(p),
                None => self.syntax_here(),
            })?,
            _ => {
                return Err(match op_pos {
                    Some(p) => self.syntax_at(p),
                    None => self.syntax_here(),
                });
            }
        };
        let lit_tok = self.next().ok_or_else(|| self.syntax_here())?;
        let (ty, def) = match operand {
            Operand::Field(f) => (f.def().ty, Some(f.def())),
            Operand::Var => (FieldType::Str, self.lambda.as_ref().map(|(_, f)| f.def())),
        };
        let rhs = literal(lit_tok, ty, op)?;
        if let (Some(def), Lit::Str(s)) = (def, &rhs)
            && let Some(members) = def.members
            && !members.iter().any(|m| m.eq_ignore_ascii_case(s))
        {
            return Err(bad(format!(
                "The string '{s}' is not a valid enumeration type constant for '{}'.",
                def.path
            )));
        }
        if let Operand::Field(f) = operand {
            let def = f.def();
            let allowed = match op {
                CmpOp::Eq => def.ops & OP_EQ != 0,
                CmpOp::Ne => def.ops & OP_NE != 0,
                _ => def.ops & OP_ORDER != 0,
            };
            if !allowed {
                return Err(unsupported_op(def, op));
            }
        } else if let Some((_, f)) = &self.lambda {
            // Inside a lambda: `eq` always; `ne` where the collection allows it.
            let def = f.def();
            let allowed = match op {
                CmpOp::Eq => true,
                CmpOp::Ne => def.ops & OP_NE != 0,
                _ => false,
            };
            if !allowed {
                return Err(unsupported_op(def, op));
            }
        }
        Ok(Expr::Cmp {
            lhs: operand,
            op,
            rhs,
        })
    }

    fn lambda(&mut self, def: &'static FieldDef) -> Result<Expr, FilterError> {
        self.expect(&Tok::Slash)?;
        let Some(Tok::Ident(kind)) = self.next() else {
            return Err(self.syntax_here());
        };
        if def.ty != FieldType::StrList {
            return Err(bad(format!(
                "The '{kind}' operator can only be applied to a collection; '{}' is not one.",
                def.path
            )));
        }
        if !kind.eq_ignore_ascii_case("any") || def.ops & OP_ANY == 0 {
            return Err(unsupported(format!(
                "The lambda operator '{kind}' is not supported on property '{}'.",
                def.path
            )));
        }
        if self.lambda.is_some() {
            return Err(unsupported("Nested lambda expressions are not supported."));
        }
        self.expect(&Tok::LParen)?;
        let Some(Tok::Ident(var)) = self.next() else {
            return Err(self.syntax_here());
        };
        if ["and", "or", "not", "eq", "ne", "true", "false"].contains(&var.as_str()) {
            return Err(self.syntax_here());
        }
        self.expect(&Tok::Colon)?;
        self.enter()?;
        self.lambda = Some((var, def.field));
        let body = self.expr();
        self.lambda = None;
        let body = body?;
        self.expect(&Tok::RParen)?;
        self.depth -= 1;
        if !body_uses_var(&body) {
            return Err(bad("The lambda body must compare the lambda variable."));
        }
        Ok(Expr::Any {
            field: def.field,
            body: Box::new(body),
        })
    }
}

fn body_uses_var(e: &Expr) -> bool {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => body_uses_var(a) || body_uses_var(b),
        Expr::Not(x) => body_uses_var(x),
        Expr::Cmp { lhs, .. } => *lhs == Operand::Var,
        Expr::StartsWith { operand, .. } => *operand == Operand::Var,
        Expr::Any { .. } => false,
    }
}

fn unsupported_for(def: &FieldDef) -> FilterError {
    unsupported(format!(
        "Unsupported or invalid query filter clause specified for property '{}' of resource 'SignIn'.",
        def.path
    ))
}

fn unsupported_op(def: &FieldDef, op: CmpOp) -> FilterError {
    unsupported(format!(
        "Unsupported or invalid query filter clause specified for property '{}' of resource 'SignIn': operator '{}' is not supported.",
        def.path,
        op.word()
    ))
}

fn mismatch(field_ty: FieldType, lit_edm: &str, op: CmpOp) -> FilterError {
    bad(format!(
        "A binary operator with incompatible types was detected. Found operand types '{}' and '{lit_edm}' for operator kind '{}'.",
        field_ty.edm(),
        op.kind()
    ))
}

/// Converts the literal token to the field's type, or explains the mismatch.
fn literal(tok: Tok, ty: FieldType, op: CmpOp) -> Result<Lit, FilterError> {
    match tok {
        Tok::Str(s) => match ty {
            FieldType::Str | FieldType::StrList => Ok(Lit::Str(s)),
            other => Err(mismatch(other, "Edm.String", op)),
        },
        Tok::Ident(word) => match word.as_str() {
            "true" | "false" => match ty {
                FieldType::Bool => Ok(Lit::Bool(word == "true")),
                other => Err(mismatch(other, "Edm.Boolean", op)),
            },
            "null" => Err(unsupported("Comparisons with null are not supported.")),
            _ => Err(bad(format!(
                "'{word}' is not a literal; string literals need single quotes."
            ))),
        },
        Tok::Bare(text) => {
            if let Ok(n) = text.parse::<i64>() {
                return match ty {
                    FieldType::Int => {
                        if i32::try_from(n).is_ok() {
                            Ok(Lit::Int(n))
                        } else {
                            Err(bad(format!(
                                "The value '{text}' is out of range for Edm.Int32."
                            )))
                        }
                    }
                    other => Err(mismatch(other, "Edm.Int32", op)),
                };
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(&text) {
                return match ty {
                    FieldType::DateTime => Ok(Lit::Time(t.timestamp_millis())),
                    other => Err(mismatch(other, "Edm.DateTimeOffset", op)),
                };
            }
            Err(bad(format!("'{text}' is not a valid literal.")))
        }
        _ => Err(bad("Expected a literal after the operator.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rec(Vec<(Field, Val<'static>)>);

    impl SignInFields for Rec {
        fn field(&self, field: Field) -> Val<'_> {
            self.0
                .iter()
                .find(|(f, _)| *f == field)
                .map_or(Val::Null, |(_, v)| v.clone())
        }
    }

    fn rec() -> Rec {
        Rec(vec![
            (Field::UserId, Val::s("u1")),
            (Field::UserPrincipalName, Val::s("Admin@Contoso.com")),
            (Field::StatusErrorCode, Val::Int(50126)),
            (Field::IsInteractive, Val::Bool(true)),
            (Field::CreatedDateTime, Val::Time(1_700_000_000_000)),
            (
                Field::SignInEventTypes,
                Val::List(vec![Cow::Borrowed("interactiveUser")]),
            ),
            (Field::ClientAppUsed, Val::s("IMAP4")),
        ])
    }

    fn eval(text: &str) -> bool {
        Filter::parse(text, ApiVersion::Beta)
            .unwrap_or_else(|e| panic!("{text}: {e:?}"))
            .matches(&rec())
    }

    fn err(text: &str, version: ApiVersion) -> FilterError {
        match Filter::parse(text, version) {
            Ok(f) => panic!("{text} parsed: {f:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn evaluates() {
        assert!(eval("userId eq 'u1'"));
        assert!(eval("userId eq 'U1'"));
        assert!(!eval("userId eq 'u2'"));
        assert!(eval("startswith(userPrincipalName,'admin@')"));
        assert!(eval("startsWith(userPrincipalName, 'ADMIN')"));
        assert!(eval("status/errorCode eq 50126 and isInteractive eq true"));
        assert!(eval("status/errorCode ne 0"));
        assert!(eval(
            "userId eq 'x' or (clientAppUsed eq 'IMAP4' and not(isInteractive eq false))"
        ));
        assert!(eval("createdDateTime ge 2023-11-14T22:13:20Z"));
        assert!(!eval("createdDateTime gt 2023-11-14T22:13:20Z"));
        assert!(eval("createdDateTime le 2023-11-14T23:13:20+01:00"));
        assert!(eval("signInEventTypes/any(t: t eq 'interactiveUser')"));
        assert!(!eval("signInEventTypes/any(t: t ne 'interactiveUser')"));
        assert!(eval(
            "signInEventTypes/any(x:x eq 'nonInteractiveUser' or x eq 'interactiveUser')"
        ));
        // A quote inside a literal is data, not syntax.
        assert!(!eval("userId eq 'u1'' or ''1'' eq ''1'"));
    }

    #[test]
    fn hostile_input_is_a_client_error() {
        for text in [
            "userId eq 'x' or true",
            "true",
            "userId eq 'x",
            "(userId eq 'x'",
            "userId eq 'x')",
            "userId eq",
            "eq 'x'",
            "userId = 'x'",
            "userId eq 'x'; drop table",
            "userId eq \"x\"",
            "userId EQ 'x'",
            "userId eq x",
            "userId eq 'x' and",
            "not",
            "()",
            "",
            "   ",
            "createdDateTime ge '2024-01-01T00:00:00Z'",
            "createdDateTime ge 2024-13-01T00:00:00Z",
            "status/errorCode eq '0'",
            "status/errorCode eq 99999999999",
            "isInteractive eq 'true'",
            "signInEventTypes eq 'interactiveUser'",
            "signInEventTypes/any(t: t eq 'bogus')",
            "conditionalAccessStatus eq 'bogus'",
            "userId/any(t: t eq 'x')",
            "startswith(status/errorCode, '5')",
            "startswith(userPrincipalName, admin)",
        ] {
            let e = err(text, ApiVersion::Beta);
            assert_eq!(e.code, "BadRequest", "{text}: {e:?}");
            assert!(e.message.starts_with("Invalid filter clause: "), "{e:?}");
        }
    }

    #[test]
    fn unsupported_queries() {
        for (text, version) in [
            ("userId ne 'x'", ApiVersion::Beta),
            ("userId gt 'x'", ApiVersion::Beta),
            ("startswith(appId,'x')", ApiVersion::Beta),
            ("endswith(userPrincipalName,'x')", ApiVersion::Beta),
            ("userAgent eq 'x'", ApiVersion::Beta),
            (
                "signInEventTypes/all(t: t eq 'interactiveUser')",
                ApiVersion::Beta,
            ),
            ("createdDateTime ne 2024-01-01T00:00:00Z", ApiVersion::Beta),
            ("status/failureReason eq 'x'", ApiVersion::V1),
            ("userId eq null", ApiVersion::V1),
        ] {
            let e = err(text, version);
            assert_eq!(e.code, "Request_UnsupportedQuery", "{text}: {e:?}");
        }
        // Beta-only properties do not exist on v1.0.
        let e = err(
            "signInEventTypes/any(t: t eq 'interactiveUser')",
            ApiVersion::V1,
        );
        assert_eq!(e.code, "BadRequest");
        assert!(e.message.contains("signInEventTypes"), "{e:?}");
        let e = err("bogus eq 'x'", ApiVersion::V1);
        assert!(
            e.message.contains(
                "Could not find a property named 'bogus' on type 'microsoft.graph.signIn'"
            ),
            "{e:?}"
        );
    }

    #[test]
    fn nesting_and_length_are_bounded() {
        let deep = format!("{}userId eq 'x'{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(err(&deep, ApiVersion::V1).code, "BadRequest");
        let nots = format!("{}userId eq 'x'", "not ".repeat(1_000));
        assert_eq!(err(&nots, ApiVersion::V1).code, "BadRequest");
        let ok = format!("{}userId eq 'x'{}", "(".repeat(20), ")".repeat(20));
        assert!(Filter::parse(&ok, ApiVersion::V1).is_ok());
    }

    #[test]
    fn conjuncts_and_mentions() {
        let f = Filter::parse(
            "createdDateTime ge 2024-01-01T00:00:00Z and (userId eq 'a' or userId eq 'b') and signInEventTypes/any(t: t eq 'servicePrincipal')",
            ApiVersion::Beta,
        )
        .expect("parses");
        assert_eq!(f.conjuncts().len(), 3);
        assert!(f.mentions(Field::SignInEventTypes));
        assert!(!f.mentions(Field::AppId));
    }
}
