// Labels of the portal by language. English is complete; Japanese carries the structure and the
// labels translated so far: a missing key falls back to English.
window.I18N = {
  en: {
    brand: "JCM Registry",
    "nav.home": "Overview", "nav.projects": "Projects", "nav.issuances": "Issuances",
    "nav.authorizations": "Authorizations", "nav.statistics": "Statistics",
    "nav.lookup": "Serial lookup", "nav.reports": "Reports", "nav.console": "Operator console",
    footer: "Registry of JCM credits and their authorization as ITMOs (Article 6.2 of the Paris Agreement).",
    "home.title": "Registry overview", "home.totals": "Credits by account type",
    "projects.title": "Projects", "issuances.title": "Issuances (serial blocks issued per vintage)",
    "authorizations.title": "Authorizations and their versions",
    "statistics.title": "Public statistics", "statistics.entities": "Entity holding accounts",
    "statistics.annual": "Annual transactions summary (tCO2)", "statistics.types": "Amount of JCM credits recorded in each type of account",
    "lookup.title": "Serial number or ITMO identifier lookup", "lookup.go": "Look up",
    "lookup.hint": "A serial number with its registry (e.g. JPN01 and 1500), or an ITMO identifier such as CA0001-JPN01-THA-1500-2021.",
    "reports.title": "Reports", "console.title": "Operator console", "console.signin": "Sign in",
    "console.token": "API token", "console.signout": "Sign out", "console.accounts": "Accounts",
    "console.holdings": "Holdings", "console.propose": "Propose a movement", "console.proposals": "Proposals",
    "console.approve": "Approve", "console.reject": "Reject", "console.command": "Run a registry command",
    "console.issue": "Issue credits", "console.blocks": "blocks", "console.more": "More blocks", "prev": "Previous", "next": "Next", "page": "Page",
    loading: "Loading…", none: "Nothing to show.",
  },
  ja: {
    brand: "JCMクレジット登録簿",
    "nav.home": "概要", "nav.projects": "プロジェクト", "nav.issuances": "発行",
    "nav.authorizations": "承認", "nav.statistics": "統計", "nav.lookup": "識別番号検索",
    "nav.reports": "報告", "nav.console": "管理コンソール",
    "statistics.entities": "法人等保有口座の情報", "statistics.types": "口座種別ごとのJCMクレジット量",
    "statistics.annual": "JCMクレジットの年間取引概要 (tCO2)",
    "console.approve": "承認", "console.reject": "却下", "console.blocks": "ブロック",
    "console.more": "次のブロック", prev: "前へ", next: "次へ",
  },
};
