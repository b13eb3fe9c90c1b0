"""Japanese sentences for the rules' error and notice keys (conversations/rules/).

Each value is a ``str.format`` template filled with the `RuleError`'s or `Notice`'s params.  The wording
follows the registration manual (ユーザー登録手順書 1.50版) where it has one.
"""

from __future__ import annotations

RULE_MESSAGES_JA: dict[str, str] = {
    # --- every field
    "rule.required": "入力されていません。値を入力してください。",
    "rule.too_long": "{max}文字以内で入力してください（現在{length}文字です）。",
    # --- 全角 set (開設者・職域診療所名称・所在地)
    "zenkaku.env_dependent": (
        "「{char}」は環境依存文字のため使用できません。「{suggestion}」に置き換えて入力してください。"
    ),
    "zenkaku.env_dependent_kanji": (
        "「{char}」はJIS第一水準・第二水準にない漢字（環境依存文字）のため使用できません。"
        "通常の字体（例：髙→高、﨑→崎）に置き換えて入力してください。"
    ),
    "zenkaku.not_allowed": (
        "「{char}」は使用できません。使用できる文字は、ひらがな（全角）、カタカナ（全角）、英数字（全角）、"
        "記号「々」「，」「ー（長音記号）」（全角）、漢字（JIS第一水準・第二水準）です。"
    ),
    "zenkaku.converted": "全角に変換して「{value}」として登録します。",
    # --- 半角カナ set (…（カナ）)
    "kana.not_allowed": (
        "「{char}」は使用できません。半角カナ、半角英数字（英字は大文字・小文字どちらも可）、"
        "半角記号「,」「&」、半角スペースで入力してください。漢字は読みをカナで入力してください。"
    ),
    "kana.converted": "半角カナに変換して「{value}」として登録します。",
    # --- 都道府県・所属機関
    "prefecture.unknown": (
        "都道府県が分かりませんでした。都道府県名（例：東京都、北海道）または"
        "2桁のコード（例：13）で入力してください。"
    ),
    "institution_type.unknown": (
        "所属機関を次から選んでください：1: 医科、3: 歯科、4: 調剤、6: 訪問看護、7: 職域診療所"
        "（番号または名称で入力できます）。"
    ),
    # --- 医療機関等・訪問看護ステーションコード（7桁）
    "institution_code.digits": "コードは7桁の数字で入力してください（入力された数字は{length}桁です）。",
    "institution_code.not_digits": (
        "コードに「{char}」は使用できません。7桁の数字で入力してください（例：0123456）。"
    ),
    "institution_code.normalised": "半角数字に直して「{value}」として登録します。",
    "institution_code.check_digit": (
        "コード「{code}」（10桁：{ten_digit_code}）の検証番号（7桁目）が一致しません。"
        "コードをご確認ください。このまま進めますか？（はい／修正）"
    ),
    # --- 電話番号
    "phone.format": "電話番号は0から始まる10桁または11桁の半角数字で入力してください（例：{example}）。",
    "phone.normalised": "電話番号を「{value}」として登録します。",
    "phone.grouped": "ハイフンを付けて「{value}」として登録します。",
    "phone.unknown_number": (
        "「{value}」は一般的な電話番号の形と異なります。番号をご確認ください。このまま進めますか？（はい／修正）"
    ),
    # --- メールアドレス
    "email.too_long": (
        "利用可能なメールアドレスは40桁以下の文字数のものとなります（入力されたアドレスは{length}文字です）。"
        "41桁以上の場合登録できませんので、お問い合わせからご連絡ください"
        "（「担当者」と送るとヘルプデスクにおつなぎします）。別の40桁以下のアドレスがあれば、そちらを入力してください。"
    ),
    "email.chars": (
        "メールアドレスに「{char}」は使用できません。使用可能文字：英小文字、数字、ピリオド（.）、"
        "ハイフン（-）、プラス（+）、アンダーバー（_）"
    ),
    "email.format": (
        "メールアドレスの形式が正しくありません。「@」を1つ含む形で入力してください（例：taro@example.jp）。"
    ),
    "email.domain": (
        "「@」の後（{domain}）がメールアドレスのドメインの形になっていません。"
        "「example.jp」のように「.」を含む形で入力してください（例：taro@example.jp）。"
    ),
    "email.at_converted": "半角に変換して「{value}」として登録します。",
    "email.lowercased": "英小文字に変換して「{value}」として登録します。",
    # --- パスワード
    "password.length": "パスワードは8文字以上100文字以内で入力してください（入力された文字数：{length}）。",
    "password.chars": (
        "パスワードは半角の英字・数字・記号で入力してください（全角文字やスペースは使用できません）。"
    ),
    "password.classes": (
        "パスワードには大文字/小文字/数字をそれぞれ1文字以上含めてください（{missing_ja}が含まれていません）。"
    ),
    "password.mismatch": "パスワード（確認用）が一致しません。同じパスワードを入力してください。",
    # --- 新設年月日
    "date.format": (
        "日付として読み取れませんでした。2024-04-01、2024/4/1、20240401、令和6年4月1日、R6.4.1 のように"
        "入力してください。"
    ),
    "date.invalid": "「{value}」は存在しない日付です。年月日をご確認ください。",
    "date.era_range": "「{value}」は{era}の期間にない日付です。元号と年をご確認ください。",
    "date.future": "新設年月日「{value}」は未来の日付です。このまま進めますか？（はい／修正）",
    "date.converted": "「{value}」として登録します。",
    # --- 郵便番号
    "postal.format": "郵便番号は7桁の半角数字で入力してください（例：1000001 または 100-0001）。",
    "postal.unknown": "郵便番号「{code}」は見つかりませんでした。郵便番号をご確認ください。",
}
