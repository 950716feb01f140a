//! The pass-count table printed at the end of a run.

#[derive(Debug, Default, Clone)]
pub struct Row {
    pub label: String,
    pub total: usize,
    pub passed: usize,
    /// Failed, and in the expected-failures list.
    pub expected_failures: usize,
}

impl Row {
    pub fn new(label: impl Into<String>) -> Self {
        Row {
            label: label.into(),
            ..Row::default()
        }
    }

    fn failed(&self) -> usize {
        self.total - self.passed
    }
}

pub fn render(title: &str, rows: &[Row]) -> String {
    let mut total = Row::new("total");
    for row in rows {
        total.total += row.total;
        total.passed += row.passed;
        total.expected_failures += row.expected_failures;
    }
    let width = rows
        .iter()
        .map(|r| r.label.len())
        .max()
        .unwrap_or(0)
        .max(title.len());
    let mut out = format!(
        "{title:width$}  {:>5}  {:>5}  {:>5}  {:>9}  {:>6}\n",
        "cases", "pass", "fail", "listed", "pass%"
    );
    for row in rows.iter().chain(std::iter::once(&total)) {
        let percent = if row.total == 0 {
            100.0
        } else {
            100.0 * row.passed as f64 / row.total as f64
        };
        out.push_str(&format!(
            "{:width$}  {:>5}  {:>5}  {:>5}  {:>9}  {:>5.1}%\n",
            row.label,
            row.total,
            row.passed,
            row.failed(),
            row.expected_failures,
            percent
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up() {
        let rows = [
            Row {
                label: "a".into(),
                total: 3,
                passed: 2,
                expected_failures: 1,
            },
            Row {
                label: "b".into(),
                total: 1,
                passed: 1,
                expected_failures: 0,
            },
        ];
        let text = render("x", &rows);
        let last = text.lines().last().unwrap();
        let numbers: Vec<&str> = last.split_whitespace().collect();
        assert_eq!(numbers, ["total", "4", "3", "1", "1", "75.0%"]);
    }
}
