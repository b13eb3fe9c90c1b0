"""English messages (selected per conversation with `english`).  Same keys and placeholders as ja.py.

Japanese proper names stay where the user must recognise them on screen or in the inbox (the portal's
name, mail subjects, button captions); the manual's examples stay as they are.
"""

from __future__ import annotations

_FULL_WIDTH_SET = (
    "Allowed: hiragana, katakana, full-width letters and digits, "
    "the symbols 々, ， and ー (long-vowel mark), "
    "and kanji of JIS level 1 and level 2 only; platform-dependent characters (環境依存文字, e.g. ①, ㈱, 髙) "
    "are not allowed."
)
_HALF_WIDTH_KANA_SET = (
    "Allowed: half-width katakana (半角カナ), half-width letters (upper or lower case) and digits, "
    'the half-width symbols "," and "&", and half-width spaces. '
    "Hiragana and full-width katakana are converted to half-width katakana for you."
)

FIELD_MESSAGES_EN: dict[str, str] = {
    # 姓・名・所属機関選択 (manual §3)
    "field.family_name.label": "Family name",
    "field.family_name.prompt": (
        "Please enter the registrant's family name (姓). e.g. 基金\n"
        "* Enter the person in charge of applications and other procedures."
    ),
    "field.family_name.help": (
        "The family name of the registrant (the person in charge of applications and other procedures), "
        "up to 50 characters. e.g. 基金"
    ),
    "field.given_name.label": "Given name",
    "field.given_name.prompt": "Please enter the registrant's given name (名). e.g. 太郎",
    "field.given_name.help": (
        "The given name of the registrant (the person in charge of applications and other procedures), "
        "up to 50 characters. e.g. 太郎"
    ),
    "field.institution_type.label": "Institution type",
    "field.institution_type.prompt": (
        "Please choose the type of institution you belong to (所属機関選択). "
        "Reply with the number or the name.\n"
        "1: 医科 (medical)  3: 歯科 (dental)  4: 調剤 (pharmacy)  6: 訪問看護 (home-visit nursing)  "
        "7: 職域診療所 (occupational clinic)"
    ),
    "field.institution_type.help": (
        "One of 1: 医科 (medical), 3: 歯科 (dental), 4: 調剤 (pharmacy), 6: 訪問看護 (home-visit nursing), "
        "7: 職域診療所 (occupational clinic).\n"
        "* Judo therapy (柔整), acupuncture/moxibustion/massage (あはき), health check-up institutions "
        "(other than medical) and midwifery homes (助産所) register on the "
        "「施術所等向け総合ポータルサイト」 instead."
    ),
    # ① 医科・歯科・調剤・訪問看護 (manual §4)
    "field.prefecture.label": "Prefecture",
    "field.prefecture.prompt": "Please choose (or enter) the prefecture. e.g. 01, 北海道, 東京",
    "field.prefecture.help": (
        "One of the 47 prefectures: its number (01–47), its name (都/道/府/県 may be left out) "
        "or its name in kana."
    ),
    "field.institution_code.label": "Institution code (7 digits)",
    "field.institution_code.prompt": (
        "Please enter the 7-digit medical institution / home-visit nursing station code "
        "(医療機関等・訪問看護ステーションコード). e.g. 0123456"
    ),
    "field.institution_code.help": (
        "7 digits (full-width digits and hyphens are removed for you). "
        "Together with the prefecture and institution type it makes the 10-digit institution code "
        "automatically."
    ),
    "field.institution_code.summary": "Institution code (7 digits)",
    "field.institution_name.summary": "Institution name",
    "field.founder_name.summary": "Founder",
    "field.institution_code_10.label": "Institution code (10 digits)",
    "field.score_table_code.label": "Fee schedule code",
    "field.institution_name.label": "Institution name",
    "field.institution_name.prompt": (
        "Please enter the name of the medical institution / home-visit nursing station. e.g. 基金クリニック"
    ),
    "field.institution_name.help": (
        "The name of the medical institution / home-visit nursing station, up to 100 characters."
    ),
    "field.founder_name.label": "Founder (full-width)",
    "field.founder_name.prompt": (
        "Please enter the founder (開設者) in full-width characters (全角). "
        "* Enter the corporation's name. e.g. 医療法人基金会\n" + _FULL_WIDTH_SET
    ),
    "field.founder_name.help": (
        "The founder in full-width characters (全角). * Enter the corporation's name.\n"
        + _FULL_WIDTH_SET
        + " Half-width characters are converted to full-width for you."
    ),
    "field.phone.label": "Phone number",
    "field.phone.prompt": (
        "Please enter the phone number in half-width digits without hyphens. e.g. 01201234567"
    ),
    "field.phone.help": (
        "10 or 11 half-width digits starting with 0, without hyphens. "
        "Hyphens and full-width digits are removed for you. e.g. 01201234567"
    ),
    "field.email.label": "Email address",
    "field.email.prompt": (
        "Please enter your email address.\n"
        "* Allowed characters: lower-case letters, digits, period (.), hyphen (-), plus (+), underscore (_)\n"
        "* The address can be at most 40 characters long."
    ),
    "field.email.help": (
        "Allowed characters: lower-case letters, digits, period (.), hyphen (-), plus (+), underscore (_); "
        "at most 40 characters. A longer address (41 characters or more) cannot be registered: "
        "please contact the help desk (お問い合わせ). An address already registered on the portal "
        "for medical institutions cannot be registered again."
    ),
    "field.password.label": "Password",
    "field.password.prompt": (
        "Please set your password and confirm it.\n"
        "* 8 to 100 characters, with at least one upper-case letter, one lower-case letter and one digit.\n"
        "* Do not write the password in a message; enter it in the dedicated input field (what you type is not shown)."
    ),
    "field.password.help": (
        "8 to 100 characters, with at least one upper-case letter, one lower-case letter and one digit. "
        "You enter the same password twice to confirm it. Never write your password in a chat or mail."
    ),
    "field.password.masked": "******** (set)",
    "field.password.on_page": "(set on the page linked from the confirmation mail)",
    "field.terms_agreed.label": "Terms of use and privacy policy",
    "field.terms_agreed.prompt": (
        "Please read the terms of use (利用規約) and the privacy policy of the "
        "医療機関等向け総合ポータルサイト (portal for medical institutions). "
        'If you agree to them, send "I agree" (同意します).'
    ),
    "field.terms_agreed.help": (
        'If you agree to the terms of use and the privacy policy, send "I agree" (同意します).'
    ),
    # ② 職域診療所 (manual §4)
    "field.clinic_name.label": "Occupational clinic name (full-width)",
    "field.clinic_name.prompt": (
        "Please enter the occupational clinic's name in full-width characters (全角). "
        "e.g. 基金株式会社診療所\n"
        "* For a clinic with both medical and dental departments where each department needs its own "
        "application (利用開始申請), e.g. because they have separate reception desks, "
        "end the name with （医科） or （歯科）."
    ),
    "field.clinic_name.help": (
        "Full-width characters (全角). " + _FULL_WIDTH_SET + " A trailing （医科） or （歯科） is allowed."
    ),
    "field.clinic_name_kana.label": "Occupational clinic name (kana)",
    "field.clinic_name_kana.prompt": (
        "Please enter the occupational clinic's name in half-width katakana (半角カナ). "
        "e.g. ｷｷﾝｶﾌﾞｼｷｶﾞｲｼｬｼﾝﾘｮｳｼﾞｮ"
    ),
    "field.clinic_name_kana.help": _HALF_WIDTH_KANA_SET,
    "field.postal_code.label": "Postal code",
    "field.postal_code.prompt": (
        "Please enter the 7-digit postal code. The address will be looked up and filled in for you. "
        "e.g. 1000001"
    ),
    "field.postal_code.help": (
        "7 half-width digits (a hyphen as in 100-0001 and full-width digits are accepted too). "
        "If one postal code covers several town areas (町域), you will be asked to choose one."
    ),
    "field.postal_town.label": "Town area (町域)",
    "field.postal_town.prompt": (
        "This postal code covers several town areas (町域). Please reply with the number of the right one."
    ),
    "field.postal_town.help": (
        "Send the number of one of the choices shown. "
        'To enter the postal code again, send "edit postal_code".'
    ),
    "field.address.label": "Address (full-width)",
    "field.address.prompt": (
        "Please enter the rest of the address (block number, building, etc.) "
        'in full-width characters (全角). If there is nothing more, send "なし" (none).\n'
        "Address found: {looked_up}\n"
        "e.g. １ー１ー１　基金ビル３階"
    ),
    "field.address.prompt_full": (
        "Please enter the address in full-width characters (全角). e.g. 東京都千代田区千代田１ー１"
    ),
    "field.address.help": (
        "Full-width characters (全角); half-width characters are converted to full-width and hyphens to ー "
        "for you. " + _FULL_WIDTH_SET
    ),
    "field.address_kana.label": "Address (kana)",
    "field.address_kana.prompt": (
        "Please enter the rest of the address (block number, building, etc.) "
        'in half-width katakana (半角カナ). If there is nothing more, send "なし" (none).\n'
        "Address found: {looked_up}\n"
        "e.g. 1ｰ1ｰ1 ｷｷﾝﾋﾞﾙ3ｶｲ"
    ),
    "field.address_kana.prompt_full": (
        "Please enter the address in half-width katakana (半角カナ). e.g. ﾄｳｷｮｳﾄﾁﾖﾀﾞｸﾁﾖﾀﾞ1ｰ1"
    ),
    "field.address_kana.help": _HALF_WIDTH_KANA_SET,
    "field.established_on.label": "Date established",
    "field.established_on.prompt": (
        "Please enter the date the occupational clinic was established (新設年月日). "
        "e.g. 2024-04-01, 2024/4/1, 令和6年4月1日, R6.4.1"
    ),
    "field.established_on.help": (
        "A real date, in the Western calendar (2024-04-01, 2024/4/1, 20240401) "
        "or the Japanese era calendar (令和6年4月1日, R6.4.1)."
    ),
    "field.founder_name_kana.label": "Founder (kana)",
    "field.founder_name_kana.prompt": (
        "Please enter the founder (開設者) in half-width katakana (半角カナ). e.g. ｲﾘｮｳﾎｳｼﾞﾝｷｷﾝｶｲ"
    ),
    "field.founder_name_kana.help": _HALF_WIDTH_KANA_SET,
    "field.phone_b.prompt": (
        "Please enter the phone number in half-width digits with hyphens. e.g. 0120-1234-567"
    ),
    "field.phone_b.help": (
        "Half-width digits with hyphens. If you leave the hyphens out, they are inserted for you "
        "as the number is grouped. e.g. 0120-1234-567, 03-1234-5678"
    ),
}

MESSAGES_EN: dict[str, str] = {
    **FIELD_MESSAGES_EN,
    "progress": "({current}/{total}) ",
    "console.turn_failed": "That could not be processed just now. Please send it again.",
    "console.no_database": "The database could not be opened ({reason}), so this runs as an in-memory trial: no mail will be sent.",
    "console.password": "Password (not shown as you type): ",
    "console.password_confirmation": "Password (confirmation): ",
    "console.memory_mode": "(In-memory trial mode: no confirmation mail has been sent.)",
    "console.verification_mail_written": "The verification mail was written to {location} (instead of being sent).",
    "console.completion_mail_written": "The completion mail was written to {location} (instead of being sent).",
    # Slack's own controls and notes (buttons, the password modal, placeholders, /regbot answers).
    "slack.password.button": "Enter the password",
    "slack.modal.title": "Set your password",
    "slack.modal.submit": "Set",
    "slack.modal.close": "Cancel",
    "slack.modal.password": "Password",
    "slack.modal.confirmation": "Password (confirmation)",
    "slack.select.placeholder": "Choose",
    "slack.edit.placeholder": "Choose a field to edit",
    "slack.mention.thread": (
        "Registration asks for personal details, so we continue in a direct message with the bot. "
        "Please check your DMs."
    ),
    "slack.command.dm": "Registration continues in a direct message with the bot. Please check your DMs.",
    "slack.command.sent": "Answered in your direct message with the bot.",
    "slack.command.usage": (
        "Usage: `/regbot register` (start or continue), `/regbot status`, `/regbot resend` "
        "(a new confirmation mail), `/regbot cancel`, `/regbot help` (this text)"
    ),
    "slack.command.staff_only": "This command is for help-desk staff only.",
    "slack.command.staff_later": "Received. The result will come as a direct message.",
    "slack.command.failed": "That could not be done just now. Please try again in a moment.",
    "greeting": (
        "I will help you register as a new user of the 医療機関等向け総合ポータルサイト "
        "(portal for medical institutions).\n"
        "This registration is for 医科 (medical), 歯科 (dental), 調剤 (pharmacy), "
        "訪問看護 (home-visit nursing) "
        "and 職域 (occupational clinics). Please answer the questions one by one.\n"
        'At any time you can send "help", "back", "edit <field>", "status", "restart", "cancel" or "human". '
        "(日本語：「日本語」と送ってください)"
    ),
    "greeting.email": (
        "You can also send several items at once: fill in the template below after each colon (：) "
        "and reply to this mail.\n"
        "(Do not write your password in the mail; you will set it on the page linked from "
        "the confirmation mail.)"
    ),
    "resumed": "Continuing where you left off.",
    "stored": "{label}: saved as “{value}”.",
    "stored.converted": "{label}: saved as “{value}” ({how}).",
    "error.intro": "{label} could not be saved. {reason}",
    "error.rule": "Rule: {rule}",
    "error.again": "Please enter it again.",
    "error.third": (
        "Entering “{label}” has failed three times, so a help desk staff member has been notified. "
        "Please wait to be contacted, or keep trying."
    ),
    "warning.confirm": "Do you want to continue anyway? (yes / no)",
    "warning.declined": "Please enter “{label}” again.",
    "choice.yes": "Yes",
    "choice.no": "No",
    "choice.agree": "I agree",
    "choice.ok": "OK",
    "choice.cancel": "Cancel",
    "choice.edit": "Edit",
    "choice.option": "{value}: {label}",
    "choice.plain": "{text}",
    "template": "{lines}",
    "options.title": "Choices:",
    "help.current": "[{label}]\n{help}",
    "help.commands": (
        'Commands: "help" this explanation / "back" previous item / "edit <field>" re-enter that item / '
        '"status" progress / "restart" start over / "cancel" stop registering / '
        '"resend" resend the confirmation mail / "human" ask the help desk / "日本語" switch to Japanese'
    ),
    "help.none": "There is no question to answer right now.",
    "back.at_start": "There is no earlier item.",
    "back.to": "Going back to the previous item, “{label}”. Current entry: {value}",
    "edit.which": 'Which item do you want to edit? (e.g. "edit phone")\n{fields}',
    "edit.unknown": "There is no item called “{name}”. Please choose one of these:\n{fields}",
    "edit.not_in_branch": "“{label}” is not asked for this institution type.",
    "edit.current": "Editing “{label}”. Current entry: {value}",
    "restart.done": "Starting over. Everything entered so far has been discarded.",
    "cancel.done": (
        "The registration has been cancelled and what you entered is discarded. "
        'To register again, send "restart".'
    ),
    "status.asking": "In progress ({done}/{total} items entered). Current question: “{label}”",
    "status.summary": 'Waiting for you to check the summary. Send "OK" to apply for registration.',
    "status.verifying": (
        "The confirmation mail (メールアドレス登録確認メール) has been sent. Please open the URL in it to "
        'complete the registration (valid for 24 hours after sending). If it has not arrived, send "resend".'
    ),
    "status.completed": "Your user registration is complete.",
    "status.ended": 'This conversation has ended. To register again, send "restart".',
    "ended": 'This conversation has ended. To register again, send "restart".',
    "resend.done": (
        "The confirmation mail (メールアドレス登録確認メール) has been sent again. "
        "The URL in the earlier mail no longer works; please use the URL in the newest mail."
    ),
    "resend.nothing": (
        'There is no confirmation mail to resend yet. Finish the questions and send "OK", '
        "and the confirmation mail will be sent."
    ),
    "helpdesk.staff_message": "[Help desk]\n{text}",
    "helpdesk.takeover": "A help desk staff member will guide you from here. Please wait for their message.",
    "helpdesk.released": "The staff member has finished. The bot will continue guiding you.",
    "human.done": (
        "A help desk staff member has been notified and will contact you in this conversation. "
        "You can keep answering while you wait."
    ),
    "human.unavailable": (
        "A help desk member cannot be reached through this channel right now. Please call the "
        "オンライン資格確認等コールセンター (online eligibility call centre) at 0800-080-4583 (toll-free; Mon–Fri "
        "8:00–18:00, Sat 8:00–16:00, except public holidays). You can keep answering here."
    ),
    "error.third.unavailable": (
        '"{label}" did not work three times. Send "help" to see the rule. If you are stuck, please call the '
        "オンライン資格確認等コールセンター (online eligibility call centre) at 0800-080-4583 (toll-free; Mon–Fri "
        "8:00–18:00, Sat 8:00–16:00, except public holidays)."
    ),
    "human.already": "The help desk has already been notified. Please wait to be contacted.",
    "lang.switched": "Switched to English. (日本語に戻すには「日本語」と送ってください)",
    "stale": "This button belongs to an earlier question. Please answer the current question.",
    "secret.unexpected": "No password is being asked for right now.",
    "password.set": "Your password has been set (it is not shown).",
    "password.warning": (
        "That message looks like a password. Never write a password in a message or mail; use the "
        "dedicated input field. To be safe, we recommend not using that password."
    ),
    "redirect.facility_portal": (
        "Judo therapy (柔道整復), massage/acupressure, acupuncture and moxibustion "
        "(あん摩マッサージ指圧・はり・きゅう), health check-up institutions (健診実施機関等) "
        "and midwifery homes "
        "(助産所) cannot register here. Please register on the 施術所等向け総合ポータルサイト. "
        "Thank you."
    ),
    "redirect.coordinator": (
        "Coordinators (取りまとめ者) register in a different way: please use "
        "「新規取りまとめ者ユーザー登録はこちら」 on the 医療機関等向け総合ポータルサイト. Thank you."
    ),
    "multi.empty": 'No values were given after the field names. Please write them as "field: value".',
    "multi.item": '{label} "{value}"',
    "multi.stored": "Saved: {fields}",
    "multi.invalid": "These items could not be saved:",
    "multi.invalid_item": "- {label}: {reason}",
    "multi.not_in_branch": "- {label}: not asked for this institution type.",
    "multi.password": "- Password: never write your password in a message (it was not saved).",
    "postal.lookup": "Address found: {address}",
    "postal.prefecture_mismatch": (
        "The postal code's prefecture ({postal}) differs from the prefecture you entered ({entered}). "
        'Please check the postal code or the prefecture (send "edit prefecture" to change it).'
    ),
    "postal.not_found_warning": (
        "The postal code “{code}” was not found by the address look-up. "
        "If it is a new postal code, you can continue anyway."
    ),
    "postal.town_invalid": "Please reply with the number of one of the choices (1–{count}).",
    "summary.title": "Please check your entries (入力内容確認)\nYou will be registered with the following.",
    "summary.row": "{label}: {value}",
    "summary.actions": (
        'If everything is correct, send "OK"; to change an item, send "edit <field>" (e.g. "edit phone"); '
        'to stop, send "cancel".'
    ),
    "summary.invalid": 'Please send "OK", "cancel" or "edit <field>".',
    "verification.sent": (
        "A mail with a link for completing your user registration has been sent to the address you "
        "registered. Please check it. (Subject: 【総合ポータルサイト】メールアドレス登録確認メール; "
        "the URL is valid for 24 hours.)"
    ),
    "verification.sent.email": "Set your password on the linked page to complete your user registration.",
    "verification.reasons": (
        "* If the confirmation mail does not arrive, please check the following:\n"
        "- The email address was entered incorrectly.\n"
        "- Your mail settings reject incoming mail.\n"
        "- The mail is in a spam (迷惑メール) or similar folder.\n"
        'If it does not arrive, send "resend"; to correct the address, send "edit email".'
    ),
    "completed": (
        "Your user registration is complete. Your user name is “{username}”.\n"
        "The account registration completion mail (アカウント登録完了メール) has been sent. "
        "To log in, click the "
        "「ログイン」 (login) button at the top right of the portal site."
    ),
    "reminder": "Your user registration is not finished yet. You can continue where you left off.",
    "expired": (
        "This registration has ended because there was no activity for a while. "
        'To register again, send "restart".'
    ),
    "faq.mail_not_arriving": (
        "If the confirmation mail (メールアドレス登録確認メール) does not arrive, "
        "please check the following:\n"
        "- The email address was entered incorrectly.\n"
        "- Your mail settings reject incoming mail.\n"
        "- The mail is in a spam (迷惑メール) or similar folder.\n"
        'Send "resend" to get a new mail (the URL in earlier mails will stop working).'
    ),
    "faq.invalid_operation": (
        "If 「不正な操作が行われました。」 (an invalid operation was performed) appears "
        "after opening the URL, "
        "there are four possible reasons:\n"
        "① Part of the URL was lost, e.g. by a line break: copy the whole URL and paste it into "
        "your browser's address bar.\n"
        "② The URL in the mail was opened again after the registration was completed: if you received the "
        "user registration completion mail, your registration is complete; use the URL in that mail.\n"
        "③ The URL was opened more than 24 hours after the mail was sent: the URL is no longer valid; "
        'please apply again (send "resend" to get a new mail).\n'
        "④ Another registration was requested with the same email address before the link was opened: "
        "only the mail for the newest request is valid. Please use the newest mail."
    ),
    "faq.human": 'If that does not help, send "human" and we will put you through to the help desk.',
    "faq.call_centre": (
        "If that does not help, please call the オンライン資格確認等コールセンター (online eligibility call "
        "centre) at 0800-080-4583 (toll-free; Mon–Fri 8:00–18:00, Sat 8:00–16:00, except public holidays)."
    ),
    "verification.invalidated": (
        "The URL in the confirmation mail we sent no longer works. When you have made your change and send "
        '"OK", we will send a new confirmation mail.'
    ),
    "email.registered": (
        "This email address is already registered (an address already registered on the portal for medical "
        "institutions cannot be registered again). Please log in with 「ログインはこちら」 on the portal. "
        "If you have forgotten your password, reset it from the login screen."
    ),
    "terms.required": (
        "You cannot register without agreeing to the terms of use and the privacy policy. "
        'If you agree, send "I agree" (同意します).'
    ),
    "password.not_in_chat": "Passwords are not accepted in messages. Please use the dedicated input field.",
}
