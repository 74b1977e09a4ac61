//! The phrases demo chats are made of, per language: a small clothes and
//! shoes shop in Ukraine that also sells abroad. `{n}` becomes a number.

pub(super) struct Lang {
    pub code: &'static str,
    pub first: &'static [&'static str],
    pub last: &'static [&'static str],
    pub openers: &'static [&'static str],
    pub greetings: &'static [&'static str],
    /// A visitor's question and the manager's answer to it.
    pub qa: &'static [(&'static str, &'static str)],
    pub thanks: &'static [&'static str],
    pub byes: &'static [&'static str],
}

pub(super) const UK: Lang = Lang {
    code: "uk",
    first: &[
        "Олена",
        "Андрій",
        "Марія",
        "Тарас",
        "Ірина",
        "Дмитро",
        "Наталія",
        "Сергій",
        "Оксана",
        "Юлія",
        "Богдан",
        "Катерина",
        "Василь",
        "Софія",
    ],
    last: &[
        "Коваль",
        "Шевченко",
        "Бондаренко",
        "Мельник",
        "Ткаченко",
        "Кравченко",
        "Олійник",
        "Поліщук",
        "Лисенко",
        "Савченко",
        "Руденко",
        "Мороз",
    ],
    openers: &[
        "Добрий день! Чи є в наявності кросівки Nike Air Max 42 розміру?",
        "Вітаю, хочу замовити сукню, але не можу вибрати розмір",
        "Доброго вечора. Коли буде доставка замовлення №{n}?",
        "Привіт! Чи можна оплатити при отриманні?",
        "Здрастуйте, скільки коштує доставка у Львів?",
        "Чи можна повернути куртку, якщо не підійде розмір?",
        "Добрий день, замовила вчора светр, а досі немає ТТН",
        "Підкажіть, будь ласка, чи є знижки для постійних клієнтів?",
    ],
    greetings: &[
        "Добрий день! Дякуємо, що написали. Зараз перевірю.",
        "Вітаю! Так, звісно, допоможу.",
        "Доброго дня! Хвилинку, уточню на складі.",
        "Вітаємо! Дивлюся ваше замовлення.",
    ],
    qa: &[
        ("А інші кольори є?", "Так, є чорний і білий кольори."),
        (
            "Скільки днів іде доставка Новою поштою?",
            "Доставка Новою поштою 1–2 дні.",
        ),
        (
            "Можна відправити сьогодні?",
            "Якщо оформите до 16:00, відправимо сьогодні.",
        ),
        (
            "Чи буде знижка, якщо взяти дві пари?",
            "На другу пару знижка 10%.",
        ),
        (
            "Який у вас розмір M у сантиметрах?",
            "M — це обхват грудей 92–96 см, довжина 68 см.",
        ),
        (
            "Як оформити повернення?",
            "Повернення протягом 14 днів, бланк лежить у посилці.",
        ),
        (
            "А можна на відділення №{n}?",
            "Так, вкажіть його в коментарі до замовлення.",
        ),
        (
            "Оплата карткою на сайті працює?",
            "Так, усе працює. Якщо буде помилка, напишіть нам.",
        ),
        ("Коли буде ТТН?", "Номер ТТН: 20450{n}"),
        (
            "А 41 розмір маломірить?",
            "Ні, розмір у розмір, устілка 26,5 см.",
        ),
    ],
    thanks: &[
        "Дякую, оформлюю замовлення!",
        "Супер, дякую за допомогу",
        "Зрозуміло, дякую!",
        "Отримала, все підійшло, дякую!",
    ],
    byes: &[
        "Дякуємо за замовлення! Гарного дня 🙂",
        "Звертайтеся, завжди раді допомогти!",
        "Гарного вечора!",
    ],
};

pub(super) const EN: Lang = Lang {
    code: "en",
    first: &[
        "Emma", "James", "Olivia", "Liam", "Sophie", "Noah", "Grace", "Oliver",
    ],
    last: &[
        "Wilson", "Carter", "Brown", "Johnson", "Turner", "Davies", "Walker", "Hughes",
    ],
    openers: &[
        "Hi! Do you ship to the UK?",
        "Hello, is the linen shirt still available in size L?",
        "Hi there, my order #{n} hasn't arrived yet",
        "Can I pay with PayPal?",
        "Hello! How long does delivery to Dublin take?",
    ],
    greetings: &[
        "Hi! Thanks for reaching out, let me check.",
        "Hello! Sure, happy to help.",
        "Good afternoon! One moment please.",
    ],
    qa: &[
        (
            "How much is shipping?",
            "Shipping to the UK is €9, free over €80.",
        ),
        (
            "Do you have it in navy?",
            "Yes, navy and olive are in stock.",
        ),
        (
            "Can I return it if it doesn't fit?",
            "Returns are free within 30 days.",
        ),
        (
            "Is there a discount code for first orders?",
            "Use WELCOME10 for 10% off your first order.",
        ),
        ("What's the tracking number?", "Tracking number: RR{n}UA"),
        (
            "How long does delivery take?",
            "Delivery takes 5 to 8 working days.",
        ),
        (
            "Does the L fit true to size?",
            "It runs slightly large; most people take their usual size or one down.",
        ),
    ],
    thanks: &[
        "Great, thank you!",
        "Perfect, ordering now.",
        "Thanks a lot!",
    ],
    byes: &[
        "You're welcome! Have a lovely day.",
        "Thanks for shopping with us!",
    ],
};

pub(super) const PL: Lang = Lang {
    code: "pl",
    first: &[
        "Anna",
        "Piotr",
        "Katarzyna",
        "Tomasz",
        "Magdalena",
        "Michał",
    ],
    last: &["Nowak", "Kowalczyk", "Wójcik", "Mazur", "Krawczyk", "Zając"],
    openers: &[
        "Dzień dobry, czy wysyłacie do Polski?",
        "Cześć! Czy ta kurtka jest dostępna w rozmiarze S?",
        "Dzień dobry, kiedy dotrze moje zamówienie nr {n}?",
    ],
    greetings: &["Dzień dobry! Już sprawdzam.", "Cześć! Chętnie pomogę."],
    qa: &[
        ("Ile kosztuje wysyłka?", "Wysyłka do Polski kosztuje 25 zł."),
        ("Czy mogę zapłacić BLIKIEM?", "Tak, BLIK działa."),
        ("Czy jest inny kolor?", "Mamy jeszcze beżowy i czarny."),
        ("Jaki jest numer przesyłki?", "Numer przesyłki: PL{n}"),
        ("Ile trwa dostawa?", "Zwykle 3–5 dni roboczych."),
    ],
    thanks: &["Dziękuję bardzo!", "Super, dzięki!"],
    byes: &["Dziękujemy i pozdrawiamy!", "Miłego dnia!"],
};

pub(super) const DE: Lang = Lang {
    code: "de",
    first: &["Lukas", "Anna", "Jonas", "Lea", "Felix", "Mia"],
    last: &["Müller", "Schmidt", "Weber", "Fischer", "Wagner", "Becker"],
    openers: &[
        "Guten Tag, liefern Sie auch nach Deutschland?",
        "Hallo! Ist der Pullover noch in Größe M verfügbar?",
        "Hallo, wo bleibt meine Bestellung {n}?",
    ],
    greetings: &[
        "Guten Tag! Ich schaue sofort nach.",
        "Hallo! Gerne helfe ich Ihnen.",
    ],
    qa: &[
        (
            "Was kostet der Versand?",
            "Der Versand nach Deutschland kostet 12 €.",
        ),
        ("Gibt es den auch in Grau?", "Ja, Grau ist auf Lager."),
        (
            "Haben Sie eine Sendungsnummer?",
            "Die Sendungsnummer ist DE{n}.",
        ),
        (
            "Wie lange dauert die Lieferung?",
            "Die Lieferung dauert 4 bis 7 Werktage.",
        ),
        (
            "Kann ich per PayPal zahlen?",
            "Ja, PayPal und Kreditkarte gehen beide.",
        ),
    ],
    thanks: &["Vielen Dank!", "Super, danke schön!"],
    byes: &[
        "Gern geschehen! Schönen Tag noch.",
        "Danke für Ihren Einkauf!",
    ],
};
