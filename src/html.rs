//! Escaping text for HTML: the demo page's placeholders and Telegram's HTML
//! parse mode share it.

/// Escapes `& < > "`: enough for element content and for attribute values
/// in double quotes, and exactly the entities Telegram's HTML mode names.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            super::escape(r#"<img src="x" onerror=alert(1)> & co"#),
            "&lt;img src=&quot;x&quot; onerror=alert(1)&gt; &amp; co"
        );
    }
}
