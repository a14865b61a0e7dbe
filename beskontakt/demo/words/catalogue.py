"""The demo operator's catalogue and care-desk configuration."""

from __future__ import annotations

# (code, name, kind, download, upload, tv_channels, monthly price RUB, includes)
TARIFFS: tuple[tuple[str, str, str, int | None, int | None, int | None, str, tuple[str, ...]], ...] = (
    ("inet-100", "Домашний 100", "internet", 100, 100, None, "550.00", ()),
    ("inet-300", "Домашний 300", "internet", 300, 300, None, "650.00", ()),
    ("inet-500", "Домашний 500", "internet", 500, 500, None, "790.00", ()),
    ("inet-1000", "Гигабит 1000", "internet", 1000, 1000, None, "990.00", ()),
    ("biz-100", "Бизнес 100 + статический IP", "internet", 100, 100, None, "1900.00", ()),
    ("biz-500", "Бизнес 500 + статический IP", "internet", 500, 500, None, "3500.00", ()),
    ("tv-basic", "ТВ «Базовый» (150 каналов)", "tv", None, None, 150, "250.00", ()),
    ("tv-extended", "ТВ «Расширенный» (230 каналов)", "tv", None, None, 230, "450.00", ()),
    ("tv-premium", "ТВ «Премиальный» (290 каналов, 80 в HD)", "tv", None, None, 290, "790.00", ()),
    ("cinema", "Кинотеатр", "cinema", None, None, None, "299.00", ()),
    ("cinema-premiere", "Кинотеатр «Премьера»", "cinema", None, None, None, "399.00", ()),
    ("cinema-kids", "Детский кинозал", "cinema", None, None, None, "149.00", ()),
    ("bundle-500-tv", "Интернет 500 + ТВ «Базовый»", "bundle", 500, 500, 150, "890.00", ("inet-500", "tv-basic")),
    (
        "bundle-1000-all",
        "Всё включено 1000",
        "bundle",
        1000,
        1000,
        290,
        "1490.00",
        ("inet-1000", "tv-premium", "cinema"),
    ),
)

# Kind -> ((vendor, model, serial prefix, MAC OUI, weight), ...)
EQUIPMENT: dict[str, tuple[tuple[str, str, str, str, int], ...]] = {
    "router": (
        ("TP-Link", "Archer C6", "2226", "50:C7:BF", 30),
        ("TP-Link", "Archer AX23", "2231", "98:DA:C4", 15),
        ("Keenetic", "Viva (KN-1912)", "S22", "50:FF:20", 12),
        ("Keenetic", "Giga (KN-1011)", "S21", "50:FF:20", 8),
        ("Eltex", "RG-5440G-Wac", "GP3A", "A8:F9:4B", 15),
        ("ASUS", "RT-AX55", "N8IG", "04:D9:F5", 8),
        ("MikroTik", "hAP ac2", "HD08", "4C:5E:0C", 4),
    ),
    "ont": (
        ("Huawei", "HG8245H", "48575443", "00:E0:FC", 35),
        ("Huawei", "HG8145V5", "48575443", "00:E0:FC", 25),
        ("Eltex", "NTU-RG-1402G-W", "ELTX", "A8:F9:4B", 25),
        ("ZTE", "F670L", "ZTEG", "34:4B:50", 15),
    ),
    "stb": (
        ("SmartLabs", "SML-482 HD Base", "SML", "00:1A:79", 45),
        ("SmartLabs", "SML-292 HD Premium", "SML", "00:1A:79", 15),
        ("Eltex", "NV-711", "NV7", "A8:F9:4B", 25),
        ("Eltex", "NV-501-Wac", "NV5", "A8:F9:4B", 15),
    ),
}

# (code, name)
SKILLS = (
    ("tech", "Техническая поддержка"),
    ("billing", "Биллинг и оплата"),
    ("tv", "Телевидение"),
    ("business", "Бизнес-клиенты"),
    ("callback", "Обратные звонки"),
    ("english", "Английский язык"),
)

CALENDAR_WORKDAYS = "Москва, рабочие дни"
CALENDAR_ALWAYS = "Круглосуточно (24/7)"

# (code, name, skill, calendar, auto_assign)
QUEUES = (
    ("tech-support", "Техническая поддержка", "tech", CALENDAR_ALWAYS, True),
    ("billing", "Биллинг и оплата", "billing", CALENDAR_WORKDAYS, True),
    ("tv", "Телевидение", "tv", CALENDAR_ALWAYS, True),
    ("business", "Бизнес-клиенты", "business", CALENDAR_ALWAYS, True),
    ("callbacks", "Обратные звонки", "callback", CALENDAR_WORKDAYS, False),
)

# (code, Russian name, English name, default queue, default priority, weight among cases)
CATEGORIES = (
    ("no-internet", "Нет интернета", "No internet", "tech-support", 3, 20),
    ("slow-speed", "Низкая скорость", "Slow speed", "tech-support", 2, 14),
    ("wifi", "Проблемы с Wi-Fi", "Wi-Fi problems", "tech-support", 2, 12),
    ("tv-not-working", "Не работает телевидение", "TV not working", "tv", 3, 10),
    ("billing-question", "Вопрос по оплате и балансу", "Billing question", "billing", 2, 12),
    ("equipment-setup", "Настройка оборудования", "Equipment setup", "tech-support", 2, 8),
    ("online-cinema", "Подключение онлайн-кинотеатра", "Online cinema connection", "tv", 1, 6),
    ("remote-workplace", "Настройка удалённого рабочего места", "Remote workplace setup", "business", 2, 4),
    ("relocation", "Переезд", "Relocation", "billing", 1, 3),
    ("tariff-change", "Смена тарифа", "Tariff change", "billing", 1, 5),
    ("complaint", "Жалоба", "Complaint", "callbacks", 3, 3),
    ("callback-request", "Заказ обратного звонка", "Callback request", "callbacks", 2, 3),
)

# (name, priority or None, segment or "", first response min, next response min, resolution min, calendar, rank)
SLA_POLICIES = (
    ("Бизнес — срочно", 4, "business", 15, 30, 240, CALENDAR_ALWAYS, 10),
    ("Бизнес-клиенты", None, "business", 30, 60, 480, CALENDAR_ALWAYS, 20),
    ("VIP-абоненты", None, "vip", 30, 60, 720, CALENDAR_ALWAYS, 30),
    ("Срочные обращения", 4, "", 30, 60, 480, CALENDAR_ALWAYS, 40),
    ("Высокий приоритет", 3, "", 60, 120, 1440, CALENDAR_ALWAYS, 50),
    ("Обычные обращения", 2, "", 120, 240, 2880, CALENDAR_WORKDAYS, 60),
    ("Низкий приоритет", 1, "", 480, 720, 4320, CALENDAR_WORKDAYS, 70),
)

# (name, category code or None, Russian text, English text)
MACROS = (
    (
        "Приветствие",
        None,
        "Здравствуйте, {name}! Меня зовут {agent}, я занимаюсь вашим обращением {case}. Уже разбираюсь, "
        "чем могу помочь.",
        "Hello {name}! My name is {agent} and I am handling your request {case}. I am looking into it now.",
    ),
    (
        "Нет интернета: удалённая проверка",
        "no-internet",
        "{first_name}, понимаю, как неприятно остаться без связи. Я проверил(а) линию по договору {contract}: "
        "сейчас перезагружу порт удалённо. Пожалуйста, подождите 2–3 минуты и проверьте подключение.",
        "{first_name}, I understand how frustrating it is to be offline. I checked the line of contract "
        "{contract} and am restarting the port remotely. Please wait 2–3 minutes and check the connection.",
    ),
    (
        "Низкая скорость: замер",
        "slow-speed",
        "{first_name}, спасибо, что сообщили. Ваш тариф «{tariff}». Чтобы найти причину, пожалуйста, сделайте "
        "замер скорости по кабелю, а не по Wi-Fi, и пришлите скриншот — дальше я всё проверю сам(а).",
        '{first_name}, thank you for letting us know. Your plan is "{tariff}". To find the cause, please run a '
        "speed test over a cable rather than Wi-Fi and send a screenshot; I will check the rest.",
    ),
    (
        "Баланс и оплата",
        "billing-question",
        "{name}, баланс по договору {contract} сейчас {balance} ₽. Если платёж был сделан недавно, он может "
        "поступить в течение часа. Если деньги не дошли, пришлите, пожалуйста, чек — разберусь.",
        "{name}, the balance of contract {contract} is {balance} RUB. A recent payment may take up to an hour "
        "to arrive. If it has not, please send the receipt and I will sort it out.",
    ),
    (
        "Кинотеатр подключён",
        "online-cinema",
        "{first_name}, «Кинотеатр» подключён к договору {contract}. Фильмы уже доступны в меню приставки "
        "и в приложении на смартфоне. Приятного просмотра!",
        "{first_name}, the Cinema add-on is now active on contract {contract}. Films are available in the "
        "set-top box menu and the mobile app. Enjoy!",
    ),
    (
        "Удалённое рабочее место",
        "remote-workplace",
        "{name}, для удалённой работы мы можем выделить статический IP и настроить проброс портов на вашем "
        "роутере — без визита мастера. Удобно созвониться сегодня, чтобы сделать это вместе?",
        "{name}, for remote work we can assign a static IP and set up port forwarding on your router with no "
        "technician visit. Would a call today suit you to do it together?",
    ),
    (
        "Доставка кабеля до двери",
        None,
        "{first_name}, мы привезём новый кабель и оставим его у двери — заходить в квартиру не будем. "
        "Когда курьер позвонит, специалист по телефону поможет всё подключить за 10 минут.",
        "{first_name}, we will deliver a new cable and leave it at your door; no one will enter your home. "
        "When the courier calls, a specialist will help you connect it by phone in 10 minutes.",
    ),
    (
        "Решено",
        None,
        "{name}, рад(а) сообщить, что проблема по обращению {case} решена. Если что-то ещё будет беспокоить, "
        "просто ответьте на это сообщение. С уважением, {agent}.",
        "{name}, I am glad to tell you that request {case} is resolved. If anything else bothers you, just "
        "reply to this message. Kind regards, {agent}.",
    ),
)

DEMO_TAGS = ("авария", "карантин", "повторное обращение", "VIP", "без визита", "жалоба руководству")
