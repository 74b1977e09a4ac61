//! The phrases demo chats are made of, per language: a small clothes and
//! shoes shop in Ukraine that also sells abroad. `{n}` becomes a number.

pub struct Lang {
    pub code: &'static str,
    pub first: &'static [&'static str],
    pub last: &'static [&'static str],
    pub openers: &'static [&'static str],
    pub greetings: &'static [&'static str],
    pub questions: &'static [&'static str],
    pub answers: &'static [&'static str],
    pub thanks: &'static [&'static str],
    pub byes: &'static [&'static str],
}

pub const UK: Lang = Lang {
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
    questions: &[
        "А інші кольори є?",
        "Скільки днів іде доставка Новою поштою?",
        "Можна відправити сьогодні?",
        "Чи буде знижка, якщо взяти дві пари?",
        "Який у вас розмір M у сантиметрах?",
        "Як оформити повернення?",
        "А можна на відділення №{n}?",
        "Оплата карткою на сайті працює?",
    ],
    answers: &[
        "Так, є чорний і білий кольори.",
        "Доставка Новою поштою 1–2 дні.",
        "Якщо оформите до 16:00, відправимо сьогодні.",
        "На другу пару знижка 10%.",
        "M — це обхват грудей 92–96 см, довжина 68 см.",
        "Повернення протягом 14 днів, заповніть бланк у посилці.",
        "Номер ТТН: 20450{n}",
        "Так, усе працює. Якщо буде помилка, напишіть нам.",
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

pub const EN: Lang = Lang {
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
    questions: &[
        "How much is shipping?",
        "Do you have it in navy?",
        "Can I return it if it doesn't fit?",
        "Is there a discount code for first orders?",
        "What's the tracking number?",
    ],
    answers: &[
        "Shipping to the UK is €9, free over €80.",
        "Yes, navy and olive are in stock.",
        "Returns are free within 30 days.",
        "Use WELCOME10 for 10% off your first order.",
        "Tracking number: RR{n}UA",
        "Delivery takes 5 to 8 working days.",
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

pub const PL: Lang = Lang {
    code: "pl",
    first: &[
        "Anna",
        "Piotr",
        "Katarzyna",
        "Tomasz",
        "Magdalena",
        "Michał",
    ],
    last: &[
        "Nowak",
        "Kowalski",
        "Wiśniewska",
        "Wójcik",
        "Kamińska",
        "Lewandowski",
    ],
    openers: &[
        "Dzień dobry, czy wysyłacie do Polski?",
        "Cześć! Czy ta kurtka jest dostępna w rozmiarze S?",
        "Dzień dobry, kiedy dotrze moje zamówienie nr {n}?",
    ],
    greetings: &["Dzień dobry! Już sprawdzam.", "Cześć! Chętnie pomogę."],
    questions: &[
        "Ile kosztuje wysyłka?",
        "Czy mogę zapłacić BLIKIEM?",
        "Czy jest inny kolor?",
    ],
    answers: &[
        "Wysyłka do Polski kosztuje 25 zł.",
        "Tak, BLIK działa.",
        "Mamy jeszcze beżowy i czarny.",
        "Numer przesyłki: PL{n}",
    ],
    thanks: &["Dziękuję bardzo!", "Super, dzięki!"],
    byes: &["Dziękujemy i pozdrawiamy!", "Miłego dnia!"],
};

pub const DE: Lang = Lang {
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
    questions: &[
        "Was kostet der Versand?",
        "Kann ich per Rechnung zahlen?",
        "Gibt es den auch in Grau?",
    ],
    answers: &[
        "Der Versand nach Deutschland kostet 12 €.",
        "Ja, Grau ist auf Lager.",
        "Die Sendungsnummer ist DE{n}.",
        "Die Lieferung dauert 4 bis 7 Werktage.",
    ],
    thanks: &["Vielen Dank!", "Super, danke schön!"],
    byes: &[
        "Gern geschehen! Schönen Tag noch.",
        "Danke für Ihren Einkauf!",
    ],
};
