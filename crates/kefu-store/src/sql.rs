//! A tiny builder for queries whose WHERE clause depends on filters. sqlx's `QueryBuilder`
//! would emit `?` placeholders under the `Any` driver, which PostgreSQL refuses; this one
//! numbers `$n` placeholders in order, which both backends accept.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

/// A bound value.
#[derive(Clone, Debug)]
pub(crate) enum Param {
    Text(String),
    Int(i64),
}

/// SQL text plus its parameters, in placeholder order.
#[derive(Default, Debug)]
pub(crate) struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// Appends raw SQL.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `param`.
    pub(crate) fn bind(&mut self, param: Param) -> &mut Self {
        self.params.push(param);
        self.text.push('$');
        self.text.push_str(&self.params.len().to_string());
        self
    }

    /// The sqlx query, ready to run.
    pub(crate) fn query(&self) -> Query<'_, Any, AnyArguments> {
        // The text is built only from constant fragments and numbered placeholders; values
        // always travel as bound parameters.
        let mut q = sqlx::query(AssertSqlSafe(self.text.clone()));
        for p in &self.params {
            q = match p {
                Param::Text(s) => q.bind(s.clone()),
                Param::Int(i) => q.bind(*i),
            };
        }
        q
    }
}
