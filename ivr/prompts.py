"""Everything the IVR says, in English and Hindi. Values are filled with str.format."""
from __future__ import annotations

LANGUAGES = ("en", "hi")

PROMPTS: dict[str, dict[str, str]] = {
    "en": {
        "welcome_known": "Hello {name}, welcome to Orderline.",
        "welcome_unknown": "Welcome to Orderline customer support.",
        "welcome_unknown_other": "",
        "menu": ("For order status, press 1. To change your delivery address, press 2. "
                 "To reschedule a delivery, press 3. For payments and refunds, press 4. "
                 "For a different order, press 8. Hindi ke liye 9 dabaiye. To talk to a person, press 0. "
                 "Or just tell me what you need."),
        "menu_short": ("Press 1 for status, 2 for address, 3 to reschedule, 4 for payments, "
                       "0 for a person, or tell me what you need."),
        "menu_shortest": "Press 1 for status, or 0 for a person.",
        "anything_else": "Is there anything else?",
        "enter_order": "Please enter your order number on the keypad, then press hash.",
        "enter_order_short": "Enter the order number, then hash.",
        "order_not_found": "I could not find an order with the number {digits}.",
        "confirm_order": "You entered order {ref}. If that is right, press 1. To enter it again, press 2.",
        "confirm_order_short": "Press 1 if order {ref} is right, or 2 to enter it again.",
        "verify": ("To protect your privacy, please enter the last 4 digits of the phone number on this order, "
                   "or its 6 digit pincode, then press hash."),
        "verify_short": "Enter the last 4 digits of the phone number on the order, or its pincode, then hash.",
        "verify_wrong": "That did not match.",
        "verify_failed": "Sorry, I could not verify this order, so I can't share its details.",
        "verify_refused": "Sorry, I can't check that order on this line any more today.",
        "code_sent": ("To make this change, I have sent a 6 digit number on WhatsApp to the phone number "
                      "on order {ref}."),
        "code_queued": ("To make this change, I have asked our system to send a 6 digit number on WhatsApp to "
                        "the phone number on order {ref}. It may take a minute to arrive."),
        "code_not_sent": "Sorry, I could not send the number for this change.",
        "code": "Please enter the 6 digit number from the WhatsApp message, then press hash.",
        "code_short": "Enter the 6 digit number from WhatsApp, then hash.",
        "code_wrong": "That number did not match.",
        "code_failed": "Sorry, that number did not work, so I can't make this change.",
        "no_order_for_phone": "I could not find an order for this phone number.",
        "failed_options": "To choose a new delivery day, press 3. To talk to a person, press 0.",
        "reschedule_intro": "You can move the delivery of order {ref} to one of these days.",
        "reschedule_option": "For {day}, press {digit}.",
        "reschedule_short": "Press the number of the day you want.",
        "reschedule_confirm": "You chose {day}. To confirm, press 1. To choose another day, press 2.",
        "reschedule_confirm_short": "Press 1 to confirm {day}, or 2 to choose again.",
        "reschedule_done": "Done. Order {ref} will now be delivered {day}.",
        "reschedule_refused": "I can't reschedule order {ref}, because {reason}.",
        "reschedule_no_day": "That day is no longer available.",
        "address_sent": ("I have sent a WhatsApp message to the phone number on order {ref}. "
                         "Reply to it with your new address, and we will update the order."),
        "address_queued": ("I have asked our system to send a WhatsApp message to the phone number on order {ref}. "
                           "It could not go out just now, and we will keep trying."),
        "address_not_sent": "Sorry, I could not send the WhatsApp message for the address change.",
        "address_refused": "I can't change the address of order {ref}, because {reason}.",
        "address_whatsapp": ("Orderline: you asked on the phone to change the delivery address of order {order_id}. "
                             "Reply here with the new address: house number and street, landmark, city and pincode."),
        "offer_person": "To talk to a person, press 0.",
        "rasa_down": "Sorry, I can't answer spoken questions right now. Please use the keypad.",
        "not_understood": "Sorry, I didn't catch that.",
        "no_answer": "Sorry, I don't have an answer for that.",
        "handoff": "I'm connecting you to a person. Please stay on the line.",
        "after_hours": ("Our team is available from 9 in the morning to 9 at night. "
                        "To get a call back when we open, press 1. Or stay on the line to wait for a person."),
        "callback_booked": "Thank you. We will call you back on this number when we open. Goodbye.",
        "hold": "You are number {position} in the queue. A person will be with you shortly.",
        "hold_next": "You are next in line. A person will be with you shortly.",
        "hold_unknown": "Thank you for waiting. A person will be with you shortly.",
        "queue_failed": "Sorry, we could not connect you. We will call you back on this number. Goodbye.",
        "apology": "Sorry, something went wrong on our side.",
        "language_set": "I will speak English from now on.",
        "goodbye": "Thank you for calling Orderline. Goodbye.",
        "agent_pin": "Orderline agent line. Enter your PIN, then press hash.",
        "agent_wrong_pin": "That PIN is not right.",
        "agent_disabled": "The agent line is not set up. Goodbye.",
        "agent_not_allowed": "This number may not use the agent line. Goodbye.",
        "agent_locked": "Too many wrong PINs. The agent line is locked for now; try again later. Goodbye.",
        "agent_goodbye": "Goodbye.",
        "agent_connecting": "Connecting you to the next caller.",
        "agent_next": "To take the next caller, press 1. To finish, hang up.",
    },
    "hi": {
        "welcome_known": "नमस्ते {name}, ऑर्डरलाइन में आपका स्वागत है।",
        "welcome_unknown": "ऑर्डरलाइन में आपका स्वागत है। हिंदी के लिए 9 दबाइए।",
        "welcome_unknown_other": "",
        "menu": ("ऑर्डर की जानकारी के लिए 1 दबाइए। डिलीवरी का पता बदलने के लिए 2 दबाइए। "
                 "डिलीवरी का दिन बदलने के लिए 3 दबाइए। पेमेंट और रिफ़ंड के लिए 4 दबाइए। "
                 "किसी दूसरे ऑर्डर के लिए 8 दबाइए। For English, press 9. किसी व्यक्ति से बात करने के लिए 0 दबाइए। "
                 "या बस बताइए कि आपको क्या चाहिए।"),
        "menu_short": "जानकारी के लिए 1, पते के लिए 2, दिन बदलने के लिए 3, पेमेंट के लिए 4, व्यक्ति के लिए 0 दबाइए, या बताइए।",
        "menu_shortest": "जानकारी के लिए 1, या व्यक्ति के लिए 0 दबाइए।",
        "anything_else": "क्या मैं और कुछ मदद कर सकती हूँ?",
        "enter_order": "कृपया कीपैड पर अपना ऑर्डर नंबर डालिए, फिर हैश दबाइए।",
        "enter_order_short": "ऑर्डर नंबर डालिए, फिर हैश।",
        "order_not_found": "{digits} नंबर का कोई ऑर्डर नहीं मिला।",
        "confirm_order": "आपने ऑर्डर {ref} डाला है। सही है तो 1 दबाइए। दोबारा डालने के लिए 2 दबाइए।",
        "confirm_order_short": "ऑर्डर {ref} सही है तो 1, दोबारा डालने के लिए 2 दबाइए।",
        "verify": ("आपकी सुरक्षा के लिए, इस ऑर्डर के फ़ोन नंबर के आख़िरी 4 अंक, या इसका 6 अंकों का पिनकोड डालिए, "
                   "फिर हैश दबाइए।"),
        "verify_short": "ऑर्डर के फ़ोन नंबर के आख़िरी 4 अंक, या पिनकोड डालिए, फिर हैश।",
        "verify_wrong": "यह मेल नहीं खाया।",
        "verify_failed": "माफ़ कीजिए, मैं इस ऑर्डर की पुष्टि नहीं कर पाई, इसलिए इसकी जानकारी नहीं दे सकती।",
        "verify_refused": "माफ़ कीजिए, आज इस लाइन पर इस ऑर्डर की और जाँच नहीं हो सकती।",
        "code_sent": "यह बदलाव करने के लिए, मैंने ऑर्डर {ref} के फ़ोन नंबर पर व्हाट्सऐप पर 6 अंकों का नंबर भेजा है।",
        "code_queued": ("यह बदलाव करने के लिए, ऑर्डर {ref} के फ़ोन नंबर पर व्हाट्सऐप पर 6 अंकों का नंबर भेजा जा रहा है। "
                        "इसमें एक मिनट लग सकता है।"),
        "code_not_sent": "माफ़ कीजिए, इस बदलाव के लिए नंबर नहीं भेज पाई।",
        "code": "व्हाट्सऐप संदेश वाला 6 अंकों का नंबर डालिए, फिर हैश दबाइए।",
        "code_short": "व्हाट्सऐप वाला 6 अंकों का नंबर डालिए, फिर हैश।",
        "code_wrong": "यह नंबर मेल नहीं खाया।",
        "code_failed": "माफ़ कीजिए, नंबर काम नहीं किया, इसलिए यह बदलाव नहीं हो सकता।",
        "no_order_for_phone": "इस फ़ोन नंबर पर कोई ऑर्डर नहीं मिला।",
        "failed_options": "डिलीवरी का नया दिन चुनने के लिए 3 दबाइए। किसी व्यक्ति से बात करने के लिए 0 दबाइए।",
        "reschedule_intro": "आप ऑर्डर {ref} की डिलीवरी इनमें से किसी दिन पर कर सकते हैं।",
        "reschedule_option": "{day} के लिए {digit} दबाइए।",
        "reschedule_short": "जिस दिन डिलीवरी चाहिए, उसका नंबर दबाइए।",
        "reschedule_confirm": "आपने {day} चुना है। पक्का करने के लिए 1 दबाइए। दूसरा दिन चुनने के लिए 2 दबाइए।",
        "reschedule_confirm_short": "{day} पक्का करने के लिए 1, दोबारा चुनने के लिए 2 दबाइए।",
        "reschedule_done": "हो गया। ऑर्डर {ref} अब {day} को डिलीवर होगा।",
        "reschedule_refused": "ऑर्डर {ref} की डिलीवरी का दिन नहीं बदला जा सकता, क्योंकि {reason}।",
        "reschedule_no_day": "वह दिन अब उपलब्ध नहीं है।",
        "address_sent": ("मैंने ऑर्डर {ref} के फ़ोन नंबर पर व्हाट्सऐप मैसेज भेज दिया है। "
                         "उसके जवाब में अपना नया पता भेजिए, हम ऑर्डर अपडेट कर देंगे।"),
        "address_queued": ("मैंने ऑर्डर {ref} के फ़ोन नंबर पर व्हाट्सऐप मैसेज भेजने को कहा है। "
                           "अभी वह नहीं जा पाया, हम कोशिश करते रहेंगे।"),
        "address_not_sent": "माफ़ कीजिए, पता बदलने का व्हाट्सऐप मैसेज नहीं भेजा जा सका।",
        "address_refused": "ऑर्डर {ref} का पता नहीं बदला जा सकता, क्योंकि {reason}।",
        "address_whatsapp": ("Orderline: आपने फ़ोन पर ऑर्डर {order_id} का डिलीवरी पता बदलने को कहा है। "
                             "यहाँ नया पता भेजिए: मकान नंबर और गली, लैंडमार्क, शहर और पिनकोड।"),
        "offer_person": "किसी व्यक्ति से बात करने के लिए 0 दबाइए।",
        "rasa_down": "माफ़ कीजिए, अभी मैं बोले गए सवालों का जवाब नहीं दे सकती। कृपया कीपैड इस्तेमाल कीजिए।",
        "not_understood": "माफ़ कीजिए, मैं समझ नहीं पाई।",
        "no_answer": "माफ़ कीजिए, इसका जवाब मेरे पास नहीं है।",
        "handoff": "मैं आपको हमारी टीम के व्यक्ति से जोड़ रही हूँ। कृपया लाइन पर बने रहिए।",
        "after_hours": ("हमारी टीम सुबह 9 बजे से रात 9 बजे तक उपलब्ध है। "
                        "टीम खुलने पर कॉल बैक के लिए 1 दबाइए। या किसी व्यक्ति के लिए लाइन पर बने रहिए।"),
        "callback_booked": "धन्यवाद। टीम खुलने पर हम आपको इसी नंबर पर कॉल करेंगे। नमस्ते।",
        "hold": "कतार में आपका नंबर {position} है। जल्द ही कोई व्यक्ति आपसे बात करेगा।",
        "hold_next": "अगला नंबर आपका है। जल्द ही कोई व्यक्ति आपसे बात करेगा।",
        "hold_unknown": "इंतज़ार के लिए धन्यवाद। जल्द ही कोई व्यक्ति आपसे बात करेगा।",
        "queue_failed": "माफ़ कीजिए, हम आपको जोड़ नहीं पाए। हम आपको इसी नंबर पर कॉल करेंगे। नमस्ते।",
        "apology": "माफ़ कीजिए, हमारी तरफ़ से कुछ गड़बड़ हो गई।",
        "language_set": "अब से मैं हिंदी में बात करूँगी।",
        "goodbye": "ऑर्डरलाइन को कॉल करने के लिए धन्यवाद। नमस्ते।",
        "agent_pin": "Orderline agent line. Enter your PIN, then press hash.",
        "agent_wrong_pin": "That PIN is not right.",
        "agent_disabled": "The agent line is not set up. Goodbye.",
        "agent_not_allowed": "This number may not use the agent line. Goodbye.",
        "agent_locked": "Too many wrong PINs. The agent line is locked for now; try again later. Goodbye.",
        "agent_goodbye": "Goodbye.",
        "agent_connecting": "Connecting you to the next caller.",
        "agent_next": "To take the next caller, press 1. To finish, hang up.",
    },
}

STATUS_WORDS = {
    "en": {
        "placed": "placed and waiting to be confirmed", "confirmed": "confirmed and being prepared",
        "packed": "packed and waiting for the courier", "shipped": "shipped", "in_transit": "on its way",
        "out_for_delivery": "out for delivery today", "delivery_failed": "not delivered",
        "delivered": "delivered", "rto_initiated": "being returned to the seller",
        "rto_delivered": "returned to the seller", "cancelled": "cancelled",
        "lost": "lost by the courier; our team will contact you about a refund or a replacement",
        "damaged": "damaged in transit; our team will contact you about a refund or a replacement",
    },
    "hi": {
        "placed": "प्लेस हो गया है, कन्फ़र्म होना बाकी है", "confirmed": "कन्फ़र्म हो गया है और तैयार हो रहा है",
        "packed": "पैक हो गया है, कूरियर का इंतज़ार है", "shipped": "शिप हो गया है", "in_transit": "रास्ते में है",
        "out_for_delivery": "आज डिलीवरी के लिए निकला है", "delivery_failed": "डिलीवर नहीं हो पाया",
        "delivered": "डिलीवर हो चुका है", "rto_initiated": "विक्रेता को वापस जा रहा है",
        "rto_delivered": "विक्रेता को वापस पहुँच गया है", "cancelled": "कैंसल हो चुका है",
        "lost": "कूरियर से खो गया है; हमारी टीम रिफ़ंड या नए ऑर्डर के लिए आपसे संपर्क करेगी",
        "damaged": "रास्ते में खराब हो गया है; हमारी टीम रिफ़ंड या नए ऑर्डर के लिए आपसे संपर्क करेगी",
    },
}

SENTENCES = {
    "en": {
        "status_plain": "Order {ref} is {words}.",
        "status_moving": "Order {ref} is {words} with {courier}, arriving {day}.",
        "status_rescheduled": "Order {ref} is {words} with {courier}, arriving {day}, the day you chose.",
        "status_delayed": ("Order {ref} is running late. It was promised for {promised}, "
                           "and {courier} now expects to deliver it {day}."),
        "status_failed": "The courier could not deliver order {ref}. The reason given was: {reason}.",
        "status_delivered": "Order {ref} was delivered {day}.",
        "your_order": "Your order",
        "cod_due": "This is a cash on delivery order. {amount} is to be paid on delivery.",
        "cod_paid": "This was a cash on delivery order, and the {amount} has been paid.",
        "prepaid": "This order was paid online: {amount}. Payment status: {status}.",
        "refund": "A refund of {amount} has been {words}.",
        "refund_by": "It should reach you by {day}.",
        "no_refund": "There is no refund on this order.",
        "courier": "our courier partner",
        "reason_unknown": "the courier could not reach you",
        "rupees": "{amount} rupees",
    },
    "hi": {
        "status_plain": "ऑर्डर {ref} {words}।",
        "status_moving": "ऑर्डर {ref} {courier} के साथ {words}, {day} तक पहुँचेगा।",
        "status_rescheduled": "ऑर्डर {ref} {courier} के साथ {words}, आपके चुने दिन {day} को पहुँचेगा।",
        "status_delayed": ("ऑर्डर {ref} में देरी है। इसका वादा {promised} का था, "
                           "अब {courier} इसे {day} तक पहुँचाएगा।"),
        "status_failed": "कूरियर ऑर्डर {ref} डिलीवर नहीं कर पाया। कारण बताया गया: {reason}।",
        "status_delivered": "ऑर्डर {ref} {day} को डिलीवर हुआ।",
        "your_order": "आपका ऑर्डर",
        "cod_due": "यह कैश ऑन डिलीवरी ऑर्डर है। डिलीवरी पर {amount} देने हैं।",
        "cod_paid": "यह कैश ऑन डिलीवरी ऑर्डर था, और {amount} का भुगतान हो चुका है।",
        "prepaid": "इस ऑर्डर का भुगतान ऑनलाइन हुआ था: {amount}। पेमेंट की स्थिति: {status}।",
        "refund": "{amount} का रिफ़ंड {words}।",
        "refund_by": "यह {day} तक आपके पास पहुँच जाना चाहिए।",
        "no_refund": "इस ऑर्डर पर कोई रिफ़ंड नहीं है।",
        "courier": "हमारे कूरियर पार्टनर",
        "reason_unknown": "कूरियर आप तक नहीं पहुँच पाया",
        "rupees": "{amount} रुपये",
    },
}

PAYMENT_WORDS = {
    "en": {"pending": "pending", "paid": "paid", "failed": "failed", "refunded": "refunded",
           "partially_refunded": "partly refunded"},
    "hi": {"pending": "बाकी", "paid": "भुगतान हो चुका", "failed": "फ़ेल", "refunded": "रिफ़ंड हो चुका",
           "partially_refunded": "आंशिक रिफ़ंड हो चुका"},
}

REFUND_WORDS = {
    "en": {"initiated": "started", "processing": "is being processed", "processed": "sent to your bank",
           "completed": "completed", "failed": "stopped because of a problem"},
    "hi": {"initiated": "शुरू हो गया है", "processing": "प्रोसेस हो रहा है", "processed": "आपके बैंक को भेज दिया गया है",
           "completed": "पूरा हो गया है", "failed": "किसी समस्या के कारण रुक गया है"},
}

WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "hi": ("सोमवार", "मंगलवार", "बुधवार", "गुरुवार", "शुक्रवार", "शनिवार", "रविवार"),
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "hi": ("जनवरी", "फ़रवरी", "मार्च", "अप्रैल", "मई", "जून", "जुलाई", "अगस्त", "सितंबर", "अक्टूबर", "नवंबर", "दिसंबर"),
}
NEAR_DAYS = {"en": {0: "today", 1: "tomorrow", -1: "yesterday"}, "hi": {0: "आज", 1: "कल"}}


def lang_of(value: str | None) -> str:
    return value if value in LANGUAGES else "en"


def t(lang: str, key: str, **values: object) -> str:
    """The prompt `key` in `lang`, filled with `values`."""
    text = PROMPTS[lang_of(lang)][key]
    return text.format(**values) if values else text


def s(lang: str, key: str, **values: object) -> str:
    text = SENTENCES[lang_of(lang)][key]
    return text.format(**values) if values else text

# orderline.rules explains refusals in English; Hindi callers hear these instead.
REASONS_HI = {
    "the courier already attempted delivery; the address can only be corrected through a delivery update "
    "request to the courier": "कूरियर डिलीवरी की कोशिश कर चुका है, अब पता सिर्फ़ कूरियर को अपडेट भेजकर ठीक हो सकता है",
    "the order has already shipped, so the courier cannot change its address":
        "ऑर्डर शिप हो चुका है, इसलिए कूरियर इसका पता नहीं बदल सकता",
    "the order has already been delivered": "ऑर्डर डिलीवर हो चुका है",
    "the order is cancelled": "ऑर्डर कैंसल हो चुका है",
    "the order is being returned to the seller": "ऑर्डर विक्रेता को वापस जा रहा है",
    "the order has not shipped yet, so there is no delivery to move":
        "ऑर्डर अभी शिप नहीं हुआ है, इसलिए डिलीवरी का दिन बदलने को कुछ नहीं है",
    "the order has no shipment yet": "ऑर्डर अभी शिप नहीं हुआ है",
}


def reason_words(lang: str, reason: str) -> str:
    return REASONS_HI.get(reason, reason) if lang_of(lang) == "hi" else reason
