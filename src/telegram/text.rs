//! Notification and bot-answer text: Telegram HTML, escaped, and cut so the
//! visible text stays within Telegram's 4096 characters.

use crate::store::Session;

/// Telegram's limit for one message, in UTF-16 code units of visible text.
pub const MAX_LEN: usize = 4096;

/// Escapes text for Telegram's HTML parse mode.
pub use crate::html::escape;

/// Visible length as Telegram counts it (UTF-16 code units).
pub fn visible_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Cuts plain text to at most `max` visible units, ending in "…" when cut.
pub fn cut(s: &str, max: usize) -> String {
    if visible_len(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.len_utf16();
        if used + w > max.saturating_sub(1) {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// HTML under construction that knows its visible length.
#[derive(Debug, Default, Clone)]
pub struct Html {
    html: String,
    visible: usize,
}

impl Html {
    pub fn new() -> Html {
        Html::default()
    }

    /// Plain text, escaped.
    pub fn text(&mut self, s: &str) -> &mut Html {
        self.html.push_str(&escape(s));
        self.visible += visible_len(s);
        self
    }

    /// Text inside a tag (`b`, `i`, `code`).
    pub fn tagged(&mut self, tag: &str, s: &str) -> &mut Html {
        self.html.push_str(&format!("<{tag}>{}</{tag}>", escape(s)));
        self.visible += visible_len(s);
        self
    }

    /// A link.
    pub fn link(&mut self, href: &str, s: &str) -> &mut Html {
        self.html
            .push_str(&format!("<a href=\"{}\">{}</a>", escape(href), escape(s)));
        self.visible += visible_len(s);
        self
    }

    pub fn len(&self) -> usize {
        self.visible
    }

    pub fn is_empty(&self) -> bool {
        self.visible == 0
    }

    pub fn finish(self) -> String {
        self.html
    }
}

/// The short id shown to managers (any unique prefix of 4+ works).
use crate::chat::short_id;

/// Who the visitor is: name and phone, or "Visitor".
pub fn who(s: &Session) -> String {
    match (&s.user_name, &s.user_phone) {
        (Some(n), Some(p)) => format!("{n} · {p}"),
        (Some(n), None) => n.clone(),
        (None, Some(p)) => p.clone(),
        (None, None) => "Visitor".to_string(),
    }
}

/// What a notification is about.
pub struct Notice<'a> {
    pub session: &'a Session,
    /// The notification announces a new chat.
    pub new_chat: bool,
    /// Visitor messages, oldest first (joined into one notification).
    pub messages: &'a [&'a str],
    /// `CHAT_PUBLIC_URL`, for the link to the panel.
    pub public_url: Option<&'a str>,
    /// Forum-topic mode: managers write in the topic rather than reply.
    pub topics: bool,
}

/// Renders a notification. Returns the HTML and how many of `messages` it
/// holds: the first always (cut if needed), the others only while the whole
/// stays within [`MAX_LEN`]; the rest belong in the next notification.
pub fn notification(n: &Notice) -> (String, usize) {
    let s = n.session;
    let head = |count: usize| {
        let title = match (n.new_chat, count) {
            (true, _) => "🆕 New chat".to_string(),
            (false, 0 | 1) => "💬 New message".to_string(),
            (false, k) => format!("💬 {k} new messages"),
        };
        let mut h = Html::new();
        h.tagged("b", &title).text("\n");
        h.text("From ").tagged("b", &cut(&who(s), 200)).text("\n");
        h
    };

    let mut foot = Html::new();
    foot.text("\nChat ").tagged("code", short_id(&s.id));
    if let Some(url) = n.public_url {
        foot.text(" · ")
            .link(&format!("{url}/chat/{}", s.id), "open in the panel");
    }
    if n.topics {
        foot.text("\nWrite in this topic to answer; /close closes the chat.");
    } else {
        foot.text("\nReply to this message to answer; reply /close to close the chat.");
    }

    // The title for all messages is at least as long as for those used.
    let budget = MAX_LEN.saturating_sub(head(n.messages.len()).len() + foot.len() + 2);
    let mut body = String::new();
    let mut used = 0;
    for (i, m) in n.messages.iter().enumerate() {
        let sep = if i == 0 { "\n" } else { "\n\n" };
        let piece = format!("{sep}{m}");
        if visible_len(&body) + visible_len(&piece) <= budget {
            body.push_str(&piece);
            used += 1;
        } else if i == 0 {
            body = cut(&piece, budget);
            used = 1;
            break;
        } else {
            break;
        }
    }
    let mut html = head(used).finish();
    html.push_str(&escape(&body));
    html.push('\n');
    html.push_str(&foot.finish());
    (html, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(name: Option<&str>) -> Session {
        Session {
            id: "3f2a8c1e-0d5b-4c7a-9e6f-1a2b3c4d5e6f".into(),
            user_name: name.map(str::to_string),
            user_phone: Some("+380 67 123".into()),
            status: crate::store::Status::Active,
            manager_id: None,
            user_session_id: None,
            created_at: String::new(),
            updated_at: String::new(),
            user_email: None,
            away_at: None,
        }
    }

    fn visible(html: &str) -> String {
        // Drop tags and unescape, as Telegram does.
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    }

    #[test]
    fn escapes_everything_the_visitor_writes() {
        let s = session(Some("<b>Eve</b> & co"));
        let (html, used) = notification(&Notice {
            session: &s,
            new_chat: false,
            messages: &["<script>alert(1)</script> \"x\" & y"],
            public_url: Some("https://shop.example"),
            topics: false,
        });
        assert_eq!(used, 1);
        assert!(html.contains("&lt;b&gt;Eve&lt;/b&gt; &amp; co"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;x&quot; &amp; y"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<code>3f2a8c1e</code>"));
        assert!(html.contains(
            "<a href=\"https://shop.example/chat/3f2a8c1e-0d5b-4c7a-9e6f-1a2b3c4d5e6f\">"
        ));
        assert!(html.contains("+380 67 123"));
    }

    #[test]
    fn long_text_is_cut_to_telegrams_limit_after_escaping() {
        let s = session(None);
        let long = "&".repeat(4000) + &"😀".repeat(300);
        let (html, _) = notification(&Notice {
            session: &s,
            new_chat: true,
            messages: &[&long],
            public_url: None,
            topics: false,
        });
        let v = visible(&html);
        assert!(visible_len(&v) <= MAX_LEN, "{}", visible_len(&v));
        assert!(v.contains('…'));
        assert!(!html.contains("&am\n") && html.ends_with("close the chat."));
    }

    #[test]
    fn joins_messages_while_they_fit() {
        let s = session(Some("Olena"));
        let (big, also_big) = ("x".repeat(2000), "fourth".repeat(400));
        let msgs = ["first", "second", big.as_str(), also_big.as_str()];
        let (html, used) = notification(&Notice {
            session: &s,
            new_chat: false,
            messages: &msgs,
            public_url: None,
            topics: false,
        });
        assert_eq!(used, 3);
        assert!(html.contains("first\n\nsecond"));
        assert!(!html.contains("fourth"));
        let msgs = ["a", "b", &"y".repeat(4000)];
        let (_, used) = notification(&Notice {
            session: &s,
            new_chat: false,
            messages: &msgs,
            public_url: None,
            topics: false,
        });
        assert_eq!(used, 2);
    }
}
