"""Whole conversations with the pure engine, read like the manual: what the person says, what the bot
stores, what it asks next."""

from __future__ import annotations

from conversations.types import (
    CancelVerification,
    IssueVerification,
    NotifyHelpdesk,
    ResendVerification,
    SetPassword,
)
from tests.conversations.transcript import BRANCH_A_ANSWERS, BRANCH_B_ANSWERS, Chat


def finish_a(chat: Chat) -> Chat:
    chat.answer_all(BRANCH_A_ANSWERS)
    assert chat.awaiting == "password"
    assert chat.replies[-1].secret
    chat.password("Kikin2024pass")
    assert chat.awaiting == "terms_agreed"
    return chat.say("同意します")


def test_greeting_asks_family_name_with_progress_and_example():
    chat = Chat().start()
    assert chat.awaiting == "family_name"
    assert "（1/11）" in chat.text
    assert "（例）基金" in chat.text


def test_branch_a_complete_registration_reaches_summary_then_verification():
    chat = finish_a(Chat().start())
    assert chat.awaiting == "confirm"
    text = chat.text
    assert "以下の内容で登録します。" in text
    assert "姓：基金" in text and "名：太郎" in text
    assert "所属機関選択：1：医科" in text
    assert "医療機関等コード（10桁）：0110113719" in text
    assert "パスワード：********" in text
    assert "Kikin2024pass" not in text
    assert any(isinstance(e, SetPassword) for e in chat.all_effects)
    assert "Kikin2024pass" not in repr(chat.state)
    chat.say("OK")
    assert chat.effects == (IssueVerification("kikin.taro@example.jp"),)
    assert chat.awaiting is None
    assert "迷惑メール" in chat.text
    assert chat.state.phase == "verifying"
    chat.completed()
    assert chat.state.phase == "completed"
    assert "ユーザー登録が完了いたしました" in chat.text
    assert "kikin.taro@example.jp" in chat.text


def test_branch_b_complete_registration_with_postal_lookup():
    chat = Chat().start()
    chat.answer_all(BRANCH_B_ANSWERS)
    assert chat.awaiting == "password"
    chat.password("Kikin2024pass")
    chat.say("同意します")
    assert chat.awaiting == "confirm"
    values = chat.values
    assert values["postal_code"] == "1000001"
    assert values["address"].startswith("東京都千代田区千代田")
    assert values["address"].endswith("１ー１ー１　基金ビル３階")
    assert values["address_kana"].startswith("ﾄｳｷｮｳﾄ")
    assert values["clinic_name_kana"] == "ｷｷﾝｶﾌﾞｼｷｶﾞｲｼｬｼﾝﾘｮｳｼﾞｮ"
    assert values["established_on"] == "2024-04-01"
    assert values["phone"] == "03-1234-5678"
    assert "institution_code" not in values
    assert "新設年月日：2024-04-01" in chat.text


def test_wrong_answer_gets_reason_rule_and_same_question():
    chat = Chat().start().answer_all(["基金", "太郎", "1", "北海道"])
    chat.say("12345")
    assert chat.awaiting == "institution_code"
    assert "ルール：" in chat.text
    assert "7桁" in chat.text
    assert "institution_code" not in chat.values


def test_check_digit_mismatch_warns_and_yes_overrides():
    chat = Chat().start().answer_all(["基金", "太郎", "1", "北海道"])
    chat.say("9999991")
    assert chat.awaiting == "institution_code"
    assert chat.state.warning is not None
    assert "institution_code" not in chat.values
    chat.say("はい")
    assert chat.values["institution_code"] == "9999991"
    assert chat.values["institution_code_10"] == "0119999991"
    assert chat.awaiting == "institution_name"


def test_check_digit_warning_declined_asks_again():
    chat = Chat().start().answer_all(["基金", "太郎", "1", "北海道"])
    chat.say("9999991").say("いいえ")
    assert chat.awaiting == "institution_code"
    assert "institution_code" not in chat.values


def test_environment_dependent_character_is_named_with_suggestion():
    chat = Chat().start().answer_all(["基金", "太郎", "1", "北海道", "0113719", "基金クリニック"])
    chat.say("㈱基金")
    assert chat.awaiting == "founder_name"
    assert "㈱" in chat.text and "株式会社" in chat.text


def test_half_width_founder_is_converted_and_shown_back():
    chat = Chat().start().answer_all(["基金", "太郎", "1", "北海道", "0113719", "基金クリニック"])
    chat.say("ｷｷﾝ-ABC")
    assert chat.values["founder_name"] == "キキンーＡＢＣ"
    assert "キキンーＡＢＣ" in chat.text


def test_three_failures_of_one_field_ask_for_the_help_desk_once():
    chat = Chat().start().answer_all(["基金", "太郎", "1", "北海道"])
    chat.say("1").say("12").say("123")
    assert NotifyHelpdesk("failures", "institution_code", chat.state.last_error) in chat.effects
    chat.say("1234")
    assert not any(isinstance(e, NotifyHelpdesk) for e in chat.effects)


def test_edit_from_summary_returns_straight_to_summary():
    chat = finish_a(Chat().start())
    chat.say("修正 電話番号")
    assert chat.awaiting == "phone"
    chat.say("0311112222")
    assert chat.awaiting == "confirm"
    assert "電話番号：0311112222" in chat.text


def test_summary_buttons_ok_and_edit_select():
    chat = finish_a(Chat().start())
    chat.click("edit:email")
    assert chat.awaiting == "email"
    chat.say("new.address@example.jp")
    assert chat.awaiting == "confirm"
    chat.click("ok")
    assert chat.effects == (IssueVerification("new.address@example.jp"),)


def test_stale_button_answers_politely_and_changes_nothing():
    chat = Chat().start().answer_all(["基金", "太郎"])
    before = chat.state
    chat.click("3", awaiting="prefecture")
    assert "以前の質問" in chat.text
    assert chat.state.values == before.values
    assert chat.awaiting == "institution_type"


def test_institution_type_button():
    chat = Chat().start().answer_all(["基金", "太郎"])
    chat.click("7")
    assert chat.values["institution_type"] == "7"
    assert chat.awaiting == "prefecture"
    assert "/16）" in chat.text


def test_back_goes_to_previous_field():
    chat = Chat().start().answer_all(["基金", "太郎"])
    chat.say("戻る")
    assert chat.awaiting == "given_name"
    assert "太郎" in chat.text


def test_help_shows_rule_of_current_field_and_commands():
    chat = Chat().start().answer_all(["基金", "太郎", "1", "北海道"])
    chat.say("ヘルプ")
    assert chat.awaiting == "institution_code"
    assert "7桁" in chat.text and "最初から" in chat.text


def test_restart_and_cancel():
    chat = Chat().start().answer_all(["基金", "太郎"])
    chat.say("最初から")
    assert chat.values == {}
    assert chat.awaiting == "family_name"
    chat.say("基金").say("キャンセル")
    assert chat.state.phase == "cancelled"
    assert chat.awaiting is None
    assert chat.state.values.get("family_name") == "基金"  # kept until the retention purge
    chat.say("こんにちは")
    assert "終了" in chat.text and chat.awaiting is None


def test_cancel_after_verification_kills_the_link():
    chat = finish_a(Chat().start()).say("OK")
    chat.say("キャンセル")
    assert chat.effects == (CancelVerification("kikin.taro@example.jp"),)


def test_resend_only_when_a_link_was_sent():
    chat = Chat().start()
    chat.say("再送")
    assert "再送できる確認メールはありません" in chat.text
    finish_a(chat).say("OK").say("再送")
    assert chat.effects == (ResendVerification("kikin.taro@example.jp"),)


def test_status_shows_progress():
    chat = Chat().start().answer_all(["基金", "太郎"])
    chat.say("状況")
    assert "2/11" in chat.text


def test_human_asks_the_help_desk_once():
    chat = Chat().start().say("担当者")
    assert chat.effects == (NotifyHelpdesk("asked", "family_name", None),)
    chat.say("human")
    assert chat.effects == ()
    assert "お知らせ済み" in chat.text


def test_english_switch_and_back():
    chat = Chat().start().say("english")
    assert chat.state.lang == "en"
    assert chat.awaiting == "family_name"
    assert "Family name" in chat.text or "family name" in chat.text
    chat.say("日本語")
    assert chat.state.lang == "ja"
    assert "姓" in chat.text


def test_redirect_from_free_text_at_start():
    chat = Chat().start("接骨院です")
    assert chat.state.phase == "redirected"
    assert "施術所等向け総合ポータルサイト" in chat.text
    assert chat.awaiting is None


def test_redirect_at_institution_type():
    chat = Chat().start().answer_all(["基金", "太郎"])
    chat.say("助産所")
    assert chat.state.phase == "redirected"


def test_coordinator_redirect():
    chat = Chat().start().say("取りまとめ者なのですが")
    assert chat.state.phase == "redirected"
    assert "新規取りまとめ者ユーザー登録" in chat.text


def test_surname_is_not_mistaken_for_a_redirect():
    chat = Chat().start().say("針生")
    assert chat.values["family_name"] == "針生"


def test_labelled_lines_fill_many_fields_and_report_invalid_ones():
    chat = Chat().start()
    chat.say("姓: 基金\n名：太郎\n所属機関選択: 1\n都道府県: 北海道\n電話番号: abc\nパスワード: Secret123")
    assert chat.values["family_name"] == "基金"
    assert chat.values["given_name"] == "太郎"
    assert chat.values["prefecture"] == "01"
    assert "phone" not in chat.values
    assert "Secret123" not in chat.text
    assert not chat.state.password_set
    assert "電話番号" in chat.text
    assert chat.awaiting == "institution_code"


def test_password_typed_in_chat_is_refused_and_not_stored():
    chat = Chat().start().answer_all(BRANCH_A_ANSWERS)
    chat.say("Kikin2024pass")
    assert chat.awaiting == "password"
    assert not chat.state.password_set
    assert "Kikin2024pass" not in chat.text


def test_password_rules_and_mismatch():
    chat = Chat().start().answer_all(BRANCH_A_ANSWERS)
    chat.password("short")
    assert chat.awaiting == "password" and not chat.state.password_set
    chat.password("Kikin2024pass", "Kikin2024pasS")
    assert chat.awaiting == "password" and not chat.state.password_set
    chat.password("Kikin2024pass")
    assert chat.state.password_set


def test_email_channel_skips_password_and_says_the_page_asks():
    chat = Chat("email").start()
    assert "姓：" in chat.text  # the fill-in template
    chat.answer_all(BRANCH_A_ANSWERS)
    assert chat.awaiting == "terms_agreed"
    chat.say("同意します")
    assert chat.awaiting == "confirm"
    assert "ページで設定します" in chat.text
    chat.say("OK")
    assert "パスワードを設定" in chat.text


def test_registered_email_is_refused_with_login_pointer():
    chat = Chat(registered=frozenset({"kikin.taro@example.jp"})).start()
    chat.answer_all(BRANCH_A_ANSWERS)
    assert chat.awaiting == "email"
    assert "ログイン" in chat.text


def test_changing_branch_drops_other_branch_values():
    chat = finish_a(Chat().start())
    chat.say("修正 所属機関選択").say("7")
    assert "institution_code" not in chat.values
    assert chat.awaiting == "clinic_name"


def test_changing_branch_asks_again_for_a_value_in_the_other_branch_format():
    """Branch A's 電話番号 has no hyphens, branch B's has them: the old one is not carried over."""
    chat = finish_a(Chat().start())
    chat.say("修正 所属機関選択").say("7")
    assert "phone" not in chat.values
    assert chat.values["email"] == "kikin.taro@example.jp"  # same rule in both branches: kept
    chat.answer_all(BRANCH_B_ANSWERS[3:12])
    assert chat.awaiting == "phone"
    chat.say("0312345678")
    assert chat.values["phone"] == "03-1234-5678"
    assert chat.awaiting == "confirm"


def test_going_back_after_the_mail_was_sent_says_the_link_died():
    chat = finish_a(Chat().start()).say("OK")
    chat.say("修正 電話番号")
    assert chat.effects == (CancelVerification("kikin.taro@example.jp"),)
    assert "URLは無効になりました" in chat.text
    assert chat.awaiting == "phone"


def test_help_at_the_summary_shows_the_actions_once():
    chat = finish_a(Chat().start()).say("ヘルプ")
    assert chat.awaiting == "confirm"
    assert chat.text.count("入力された内容でよろしければ") == 1


def test_faq_mail_not_arriving():
    chat = finish_a(Chat().start()).say("OK").say("メールが届かないのですが")
    assert "迷惑メール" in chat.text


def test_future_established_date_needs_yes():
    chat = Chat().start().answer_all(BRANCH_B_ANSWERS[:9])
    chat.say("2030-01-01")
    assert chat.awaiting == "established_on" and chat.state.warning is not None
    chat.say("yes")
    assert chat.values["established_on"] == "2030-01-01"


def test_postal_code_with_several_towns_lets_the_person_pick():
    chat = Chat().start().answer_all(["基金", "花子", "7", "愛知県", "基金診療所", "ｷｷﾝ"])
    chat.say("452-0961")
    assert chat.awaiting == "postal_town"
    assert len(chat.replies[-1].options) > 1
    chat.say("春日")  # names many: asked again
    assert chat.awaiting == "postal_town"
    chat.say("春日宮重町")
    assert chat.values["address_lookup"] == "愛知県清須市春日宮重町"
    assert chat.awaiting == "address"


def test_postal_prefecture_disagreement_is_pointed_out():
    chat = Chat().start().answer_all(["基金", "花子", "7", "大阪府", "基金診療所", "ｷｷﾝ"])
    chat.say("1000001")
    assert "異なります" in chat.text
    assert chat.awaiting == "address"


def test_unknown_postal_code_is_accepted_and_the_full_address_asked():
    chat = Chat().start().answer_all(["基金", "花子", "7", "東京都", "基金診療所", "ｷｷﾝ"])
    chat.say("0000000")
    assert chat.awaiting == "address"
    assert "見つかりませんでした" in chat.text
    chat.say("東京都千代田区千代田１ー１")
    assert chat.values["address"] == "東京都千代田区千代田１ー１"


def test_staff_takeover_pauses_the_questions_and_release_resumes():
    from conversations.types import Release, StaffMessage, Takeover

    chat = Chat().start().answer_all(["基金", "太郎"])
    chat.send(Takeover())
    assert chat.state.paused and chat.awaiting is None
    chat.say("1")
    assert chat.replies == () and "institution_type" not in chat.values
    chat.send(StaffMessage("所属機関は1の医科を選んでください。"))
    assert "【ヘルプデスク】" in chat.text and "医科を選んで" in chat.text
    assert chat.awaiting is None
    chat.send(Release())
    assert not chat.state.paused
    assert chat.awaiting == "institution_type"
    chat.say("1")
    assert chat.values["institution_type"] == "1"


def test_person_can_cancel_while_staff_has_taken_over():
    from conversations.types import Takeover

    chat = Chat().start().send(Takeover()).say("キャンセル")
    assert chat.state.phase == "cancelled"


def test_without_a_help_desk_the_person_gets_the_call_centre_not_a_promise():
    from conversations.types import Context

    chat = Chat().start()
    chat.context = Context(helpdesk_available=False)
    chat.say("担当者")
    assert "0800-080-4583" in chat.text
    assert "お知らせしました" not in chat.text
    assert chat.awaiting == "family_name"
    chat.answer_all(["基金", "太郎", "1", "北海道"])
    chat.say("1").say("12").say("123")
    assert "0800-080-4583" in chat.text and "お知らせしました" not in chat.text
    chat.say("担当者")
    assert "0800-080-4583" in chat.text and "お知らせ済み" not in chat.text
    chat.say("メールが届きません")
    assert "0800-080-4583" in chat.text and "ヘルプデスクにおつなぎします" not in chat.text


def test_faq_offers_the_help_desk_when_there_is_one():
    chat = Chat().start().say("メールが届きません")
    assert "迷惑メール" in chat.text and "「担当者」と送ってください" in chat.text


def test_summary_uses_the_manuals_confirmation_wording():
    text = finish_a(Chat().start()).text
    assert "医療機関等名：基金クリニック" in text
    assert "開設者（漢字）：医療法人基金会" in text
    assert "医療機関等コード（10桁）：0110113719" in text


def test_email_summary_puts_the_password_row_where_the_form_has_it():
    chat = Chat("email").start().answer_all(BRANCH_A_ANSWERS).say("同意します")
    labels = [row.label.key for row in chat.replies[-1].summary]
    assert labels.index("field.password.label") == labels.index("field.email.label") + 1


def test_first_mail_template_follows_the_branch_the_mail_chose():
    chat = Chat("email").start("姓: 基金\n名: 花子\n所属機関選択: 7")
    assert "郵便番号：" in chat.text and "新設年月日：" in chat.text
    assert "医療機関等・訪問看護ステーションコード（7桁）：" not in chat.text
    assert "姓：\n" not in chat.text  # already answered
    plain = Chat("email").start()
    assert "医療機関等・訪問看護ステーションコード（7桁）：" in plain.text


def test_nothing_more_after_the_looked_up_address():
    chat = Chat().start().answer_all(["基金", "花子", "7", "東京都", "基金診療所", "ｷｷﾝ", "1000001"])
    chat.say("なし")
    assert chat.values["address"] == "東京都千代田区千代田"
    chat.say("なし")
    assert chat.values["address_kana"] == "ﾄｳｷｮｳﾄﾁﾖﾀﾞｸﾁﾖﾀﾞ"
    assert chat.awaiting == "established_on"
