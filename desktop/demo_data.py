"""Demo data for the built-in demo event, and a synthetic attendee generator for benchmarks.

The demo event is the APO Conference on Open Innovation in the Public Sector (Manila,
28-29 August 2024). Every person is fictional: common given and family names of each economy
put together. Organisations are real public bodies. Emails use the reserved example.org and
example.net domains; phone numbers follow the fictional "5555 01xx" pattern.

Badge names (what prints big) give the name people call someone, with the family name in
capitals so desk staff can tell which part it is, whatever the order:

- given name first in most economies: "Pooja SHARMA", "Elif YILDIRIM";
- Japanese, Korean, Taiwanese, Cambodian and Chinese Singaporean/Malaysian names keep their
  family-first order: "SAITŌ Takuya", "KIM Eun-ji", "CHEN Yi-Ting", "SOK Dara", "TAN Wei Ming";
- Vietnamese people are called by the last syllable of the given name, while the family
  name is shared by millions (Nguyễn alone by some 40 %): "Nguyễn Thị Lan" -> "Lan NGUYỄN";
- Malay names carry the father's name rather than a family name: "Nurul Aina binti AHMAD";
- Sri Lankan ancestral ("ge") names lead, as they are written in Sri Lanka;
- Mongolian names read as on the passport, given name then patronymic: "Bat-Erdene GANTULGA";
- a mononym (empty family name, common in Indonesia) prints as it is: "Wahyudi".

Capitals follow the language: a Turkish dotted i stays dotted ("Şahin" -> "ŞAHİN").
Native names (only for non-Latin scripts) follow the native order: family first for Chinese,
Japanese, Korean, Khmer, Mongolian (the patronymic in the genitive) and Sri Lankan ge names.
"""

from __future__ import annotations

import functools
import random
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypedDict

DEMO_EVENT: dict[str, str] = {
    "name": "Conference on Open Innovation in the Public Sector",
    "code": "OI24",
    "organiser": "Development Academy of the Philippines",
    "sponsor": "Asian Productivity Organization",
    "venue": "DAP Building, San Miguel Avenue, Ortigas Center, Pasig City, Metro Manila",
    "city": "Manila",
    "country": "PH",
    "starts_on": "2024-08-28",
    "ends_on": "2024-08-29",
    "timezone": "Asia/Manila",
    "project_code": "24-IP-02-GE-CON-A",
}

# The demo's certificate settings. The signatories are invented (their names, titles and
# signatures are fictional; no real office holder is meant), as are the seal and signatures
# in resources/certificates.
DEMO_CERTIFICATES: dict[str, object] = {
    "min_percent": 75,
    "every_day": True,
    "min_sessions": 0,
    "combine": "all",
    "attendance_categories": ["participant", "local_participant", "observer"],
    "appreciation_categories": ["resource_person"],
    "paper": "a4",
    "partner": "Asian Productivity Organization",
    "logo": "certificates/demo-academy-seal.png",
    "signatories": [
        {
            "name": "Dr. Teodora M. Salcedo-Ylagan",
            "title": "President and Chief Executive Officer, "
            "Development Academy of the Philippines",
            "signature": "certificates/signature-president.png",
        },
        {
            "name": "Leandro P. Macaraeg",
            "title": "Programme Director, Centre for Governance, "
            "Development Academy of the Philippines",
            "signature": "certificates/signature-programme-director.png",
        },
    ],
}

CATEGORIES: tuple[str, ...] = (
    "participant",
    "resource_person",
    "observer",
    "secretariat",
    "local_participant",
    "vip",
)

ATTENDEE_KEYS: tuple[str, ...] = (
    "given_name",
    "family_name",
    "badge_name",
    "native_name",
    "honorific",
    "gender",
    "country",
    "organisation",
    "position",
    "category",
    "email",
    "phone",
)

# The topics exactly as the project notification lists them.
TOPICS: tuple[str, ...] = (
    "Understanding Open Innovation",
    "Building a Culture of Open Innovation for Public Sector Organizations",
    "Collaborative Innovation Platforms",
    "Best Practices and Case Studies in Open Innovation Management",
)

# APO members other than the host, as they took part in 2024 (Hong Kong, China left out).
APO_OVERSEAS_ECONOMIES: tuple[str, ...] = (
    "BD", "KH", "TW", "FJ", "IN", "ID", "IR", "JP", "KR", "LA",
    "MY", "MN", "NP", "PK", "SG", "LK", "TH", "TR", "VN",
)  # fmt: skip


class DemoSession(TypedDict):
    """One programme session of the demo event (local naive times, Asia/Manila)."""

    key: str
    title: str
    topic: str
    day: str
    starts_at: str
    ends_at: str
    room: str
    capacity: int
    counts_for_certificate: bool
    categories: list[str]


def demo_sessions() -> list[DemoSession]:
    """Return the demo event's programme, a fresh list on every call."""
    day1, day2 = "2024-08-28", "2024-08-29"
    plenary, lobby, all_ = "Plenary Hall", "Main Lobby", list[str]()
    briefing = ["resource_person", "secretariat", "vip"]
    # Local participants know the host city; the coaches seat the overseas delegation.
    coach = ["participant", "resource_person", "secretariat"]
    # Workshop groups A and B run side by side, so neither counts towards a certificate.
    workshop = "Designing an Open Innovation Challenge"
    rows: list[tuple[str, str, str, str, str, str, str, int, bool, list[str]]] = [
        # key, title, topic, day, starts, ends, room, capacity, counts for certificate, categories
        ("registration-day1", "Registration", "", day1, "07:30", "09:00", lobby, 200, False, all_),
        ("resource-persons-briefing", "Resource Persons' Briefing", "", day1, "08:00", "08:45",
         "Function Room C", 20, False, briefing),
        ("opening", "Opening Session", "", day1, "09:00", "10:00", plenary, 150, True, all_),
        ("session-1", f"Session 1: {TOPICS[0]}", TOPICS[0], day1, "10:30", "12:00", plenary, 150,
         True, all_),
        ("session-2", f"Session 2: {TOPICS[1]}", TOPICS[1], day1, "13:30", "15:00", plenary, 150,
         True, all_),
        ("workshop-a", f"Workshop Group A: {workshop}", TOPICS[1], day1, "15:30", "17:00",
         "Function Room A", 70, False, all_),
        ("workshop-b", f"Workshop Group B: {workshop}", TOPICS[1], day1, "15:30", "17:00",
         "Function Room B", 70, False, all_),
        ("registration-day2", "Registration (Day 2)", "", day2, "08:00", "09:00", lobby, 200,
         False, all_),
        ("session-3", f"Session 3: {TOPICS[2]}", TOPICS[2], day2, "09:00", "10:30", plenary, 150,
         True, all_),
        ("session-4", f"Session 4: {TOPICS[3]}", TOPICS[3], day2, "10:45", "12:15", plenary, 150,
         True, all_),
        ("site-visit", "Site Visit: Local Government Innovation Office, Pasig City", TOPICS[3],
         day2, "13:30", "16:00", "Off-site (coaches leave from the Main Lobby)", 110, False,
         coach),
        ("closing", "Closing Session", "", day2, "16:30", "17:30", plenary, 150, True, all_),
    ]  # fmt: skip
    return [
        DemoSession(
            key=key,
            title=title,
            topic=topic,
            day=day,
            starts_at=f"{day}T{start}",
            ends_at=f"{day}T{end}",
            room=room,
            capacity=capacity,
            counts_for_certificate=counts,
            categories=list(categories),
        )
        for key, title, topic, day, start, end, room, capacity, counts, categories in rows
    ]


# --- name cultures ----------------------------------------------------------------------

_GIVEN_FAMILY = "given_family"
_FAMILY_GIVEN = "family_given"
_VIETNAMESE = "vietnamese"
_MALAY = "malay"


@dataclass(frozen=True)
class _Culture:
    """How one naming tradition is written; pools map a Latin name to its native form."""

    country: str
    badge_style: str
    native_family_first: bool
    native_sep: str
    female: Mapping[str, str]
    male: Mapping[str, str]
    family: Mapping[str, str]


def _latin(*names: str) -> dict[str, str]:
    # Names of a Latin-script culture have no separate native form.
    return dict.fromkeys(names, "")


_CULTURES: dict[str, _Culture] = {
    "bd": _Culture(
        "BD", _GIVEN_FAMILY, False, " ",
        {"Nusrat": "নুসরাত", "Farhana": "ফারহানা", "Sharmin": "শারমিন", "Tahmina": "তাহমিনা",
         "Rumana": "রুমানা"},
        {"Tanvir": "তানভীর", "Mahmudul": "মাহমুদুল", "Rafiqul": "রফিকুল", "Shafiqul": "শফিকুল",
         "Arif": "আরিফ"},
        {"Ahmed": "আহমেদ", "Rahman": "রহমান", "Hasan": "হাসান", "Islam": "ইসলাম", "Alam": "আলম",
         "Chowdhury": "চৌধুরী", "Hossain": "হোসেন"},
    ),
    "kh": _Culture(
        "KH", _FAMILY_GIVEN, True, " ",
        {"Sophea": "សុភា", "Sreymom": "ស្រីមុំ", "Sokunthea": "សុគន្ធា", "Chanthou": "ចាន់ធូ",
         "Raksmey": "រស្មី"},
        {"Dara": "ដារ៉ា", "Vuthy": "វុទ្ធី", "Rithy": "រិទ្ធី", "Sokha": "សុខា", "Visal": "វិសាល"},
        {"Sok": "សុខ", "Chan": "ចាន់", "Keo": "កែវ", "Meas": "មាស", "Heng": "ហេង", "Chea": "ជា",
         "Ouk": "អ៊ុក"},
    ),
    "tw": _Culture(
        "TW", _FAMILY_GIVEN, True, "",
        {"Yi-Ting": "怡婷", "Hsiao-Wen": "曉雯", "Shu-Fen": "淑芬", "Ya-Chi": "雅琪",
         "Pei-Shan": "佩珊"},
        {"Chih-Wei": "志偉", "Chun-Hung": "俊宏", "Cheng-Han": "承翰", "Chia-Hao": "家豪",
         "Kuan-Yu": "冠宇"},
        {"Chen": "陳", "Lin": "林", "Huang": "黃", "Wu": "吳", "Tsai": "蔡", "Chang": "張",
         "Liu": "劉", "Yang": "楊"},
    ),
    "fj": _Culture(
        "FJ", _GIVEN_FAMILY, False, " ",
        _latin("Litia", "Mereoni", "Salote", "Losana"),
        _latin("Josefa", "Seremaia", "Jone", "Apisai"),
        _latin("Naivalu", "Ratulevu", "Qalo", "Waqanivalu", "Koroi", "Nawaqa"),
    ),
    "fj-in": _Culture(
        "FJ", _GIVEN_FAMILY, False, " ",
        _latin("Anjali", "Shalini", "Roshni"),
        _latin("Ravinesh", "Sanjay", "Vikash"),
        _latin("Prasad", "Chand", "Kumar", "Lal"),
    ),
    "in-hi": _Culture(
        "IN", _GIVEN_FAMILY, False, " ",
        {"Pooja": "पूजा", "Neha": "नेहा", "Kavita": "कविता", "Anjali": "अंजलि", "Ritu": "रितु"},
        {"Rahul": "राहुल", "Vikram": "विक्रम", "Amit": "अमित", "Sanjay": "संजय", "Rohit": "रोहित"},
        {"Sharma": "शर्मा", "Verma": "वर्मा", "Singh": "सिंह", "Gupta": "गुप्ता",
         "Mishra": "मिश्रा", "Yadav": "यादव", "Chauhan": "चौहान"},
    ),
    "in-ta": _Culture(
        "IN", _GIVEN_FAMILY, False, " ",
        {"Ananya": "அனன்யா", "Meenakshi": "மீனாட்சி", "Lakshmi": "லட்சுமி", "Divya": "திவ்யா"},
        {"Karthik": "கார்த்திக்", "Senthil": "செந்தில்", "Arun": "அருண்", "Balaji": "பாலாஜி"},
        {"Krishnan": "கிருஷ்ணன்", "Iyer": "ஐயர்", "Subramanian": "சுப்பிரமணியன்",
         "Raman": "ராமன்", "Natarajan": "நடராஜன்"},
    ),
    "in-ml": _Culture(
        "IN", _GIVEN_FAMILY, False, " ",
        {"Lekha": "ലേഖ", "Anitha": "അനിത", "Divya": "ദിവ്യ"},
        {"Suresh": "സുരേഷ്", "Rajesh": "രാജേഷ്", "Vinod": "വിനോദ്"},
        {"Nair": "നായർ", "Menon": "മേനോൻ", "Pillai": "പിള്ള", "Kurup": "കുറുപ്പ്"},
    ),
    "id": _Culture(
        "ID", _GIVEN_FAMILY, False, " ",
        _latin("Dewi Kartika", "Rina", "Fitri", "Sri Wahyuni", "Ayu", "Sulastri"),
        _latin("Agus", "Budi", "Wahyudi", "Eko", "Hendra", "Slamet"),
        # The empty family name makes a share of generated Indonesians mononyms, as in life.
        _latin("Sari", "Setiawan", "Wulandari", "Santoso", "Handayani", "Pratama", "Hidayat",
               "Nugroho", ""),
    ),
    "ir": _Culture(
        "IR", _GIVEN_FAMILY, False, " ",
        {"Maryam": "مریم", "Zahra": "زهرا", "Fatemeh": "فاطمه", "Niloufar": "نیلوفر",
         "Shirin": "شیرین"},
        {"Reza": "رضا", "Hamid": "حمید", "Mehdi": "مهدی", "Amir": "امیر", "Saeed": "سعید"},
        {"Ahmadi": "احمدی", "Hosseini": "حسینی", "Rezaei": "رضایی", "Moradi": "مرادی",
         "Jafari": "جعفری", "Karimi": "کریمی", "Sadeghi": "صادقی", "Rahimi": "رحیمی"},
    ),
    "jp": _Culture(
        "JP", _FAMILY_GIVEN, True, " ",
        {"Ayaka": "彩花", "Sakura": "さくら", "Megumi": "恵", "Yūko": "裕子", "Haruka": "遥",
         "Naoko": "直子"},
        {"Kenji": "健二", "Takuya": "拓也", "Daisuke": "大輔", "Shōta": "翔太", "Hiroki": "浩樹",
         "Masato": "正人"},
        {"Morimoto": "森本", "Fujita": "藤田", "Saitō": "斎藤", "Ogawa": "小川",
         "Yamaguchi": "山口", "Kobayashi": "小林", "Ishikawa": "石川", "Matsuda": "松田"},
    ),
    "kr": _Culture(
        "KR", _FAMILY_GIVEN, True, "",
        {"Eun-ji": "은지", "Soo-yeon": "수연", "Hye-jin": "혜진", "Ji-young": "지영",
         "Min-seo": "민서"},
        {"Seung-woo": "승우", "Min-jun": "민준", "Dong-hyun": "동현", "Jae-won": "재원",
         "Sung-ho": "성호"},
        {"Han": "한", "Kim": "김", "Lee": "이", "Choi": "최", "Jung": "정", "Yoon": "윤",
         "Park": "박", "Kang": "강"},
    ),
    "la": _Culture(
        "LA", _GIVEN_FAMILY, False, " ",
        {"Khamla": "ຄຳຫຼ້າ", "Vilayvanh": "ວິໄລວັນ", "Souphaphone": "ສຸພາພອນ",
         "Manivanh": "ມະນີວັນ"},
        {"Somphone": "ສົມພອນ", "Bounmy": "ບຸນມີ", "Souksavanh": "ສຸກສະຫວັນ",
         "Khamphet": "ຄຳເພັດ", "Thongsavath": "ທອງສະຫວາດ"},
        {"Phommavong": "ພົມມະວົງ", "Sisouphanh": "ສີສຸພັນ", "Keomany": "ແກ້ວມະນີ",
         "Inthavong": "ອິນທະວົງ", "Chanthavong": "ຈັນທະວົງ", "Vongsa": "ວົງສາ",
         "Sayavong": "ໄຊຍະວົງ"},
    ),
    "my-ms": _Culture(
        "MY", _MALAY, False, " ",
        _latin("Nurul Aina", "Siti Aishah", "Nur Syafiqah", "Farah Hanim"),
        _latin("Muhammad Hafiz", "Amirul Hakim", "Ahmad Faizal", "Mohd Rizal"),
        _latin("Ahmad", "Ismail", "Zulkifli", "Abdullah", "Hassan", "Yusof"),
    ),
    # Malaysia and Singapore write Chinese names in simplified characters.
    "my-zh": _Culture(
        "MY", _FAMILY_GIVEN, True, "",
        {"Mei Ling": "美玲", "Hui Min": "慧敏", "Pei Yi": "佩仪"},
        {"Wei Ming": "伟明", "Kah Seng": "家成", "Jun Hao": "俊豪"},
        {"Tan": "陈", "Lim": "林", "Wong": "黄", "Lee": "李", "Chong": "张", "Goh": "吴"},
    ),
    "my-ta": _Culture(
        "MY", _GIVEN_FAMILY, False, " ",
        {"Kavitha": "கவிதா", "Priya": "பிரியா"},
        {"Rajesh": "ராஜேஷ்", "Ganesh": "கணேஷ்"},
        {"Subramaniam": "சுப்பிரமணியம்", "Krishnasamy": "கிருஷ்ணசாமி", "Muthu": "முத்து"},
    ),
    "mn": _Culture(
        "MN", _GIVEN_FAMILY, True, " ",
        {"Oyunchimeg": "Оюунчимэг", "Enkhjargal": "Энхжаргал", "Sarangerel": "Сарангэрэл",
         "Narantuya": "Нарантуяа", "Altantsetseg": "Алтанцэцэг"},
        {"Bat-Erdene": "Бат-Эрдэнэ", "Ganbold": "Ганболд", "Temuulen": "Тэмүүлэн",
         "Erdenebat": "Эрдэнэбат", "Munkh-Orgil": "Мөнх-Оргил"},
        # Latin: the patronymic as on a passport; native: in the genitive, as Mongolians write.
        {"Gantulga": "Гантулгын", "Dorj": "Доржийн", "Batbayar": "Батбаярын",
         "Tsogtbaatar": "Цогтбаатарын", "Munkhbat": "Мөнхбатын", "Purevdorj": "Пүрэвдоржийн",
         "Baatarkhuu": "Баатархүүгийн"},
    ),
    "np": _Culture(
        "NP", _GIVEN_FAMILY, False, " ",
        {"Sunita": "सुनिता", "Sabina": "सबिना", "Anjana": "अन्जना", "Pramila": "प्रमिला",
         "Srijana": "सृजना"},
        {"Ramesh": "रमेश", "Bikash": "बिकाश", "Prakash": "प्रकाश", "Sagar": "सागर",
         "Rajendra": "राजेन्द्र"},
        {"Shrestha": "श्रेष्ठ", "Adhikari": "अधिकारी", "Thapa": "थापा", "Gurung": "गुरुङ",
         "Poudel": "पौडेल", "Karki": "कार्की", "Bhattarai": "भट्टराई", "Maharjan": "महर्जन"},
    ),
    "pk": _Culture(
        "PK", _GIVEN_FAMILY, False, " ",
        {"Sana": "ثناء", "Hina": "حنا", "Ayesha": "عائشہ", "Rabia": "رابعہ", "Mehwish": "مہوش"},
        {"Usman": "عثمان", "Bilal": "بلال", "Faisal": "فیصل", "Kamran": "کامران",
         "Tariq": "طارق"},
        {"Qureshi": "قریشی", "Siddiqui": "صدیقی", "Hussain": "حسین", "Baig": "بیگ",
         "Mehmood": "محمود", "Raza": "رضا", "Chaudhry": "چودھری"},
    ),
    "sg-zh": _Culture(
        "SG", _FAMILY_GIVEN, True, "",
        {"Hui Min": "慧敏", "Xin Yi": "欣怡", "Li Ting": "丽婷"},
        {"Jun Jie": "俊杰", "Zhi Hao": "志豪", "Wei Liang": "伟良"},
        {"Lim": "林", "Ong": "王", "Tan": "陈", "Goh": "吴", "Chua": "蔡", "Koh": "许"},
    ),
    "sg-ms": _Culture(
        "SG", _MALAY, False, " ",
        _latin("Nur Aisyah", "Siti Nadiah"),
        _latin("Muhammad Farhan", "Hafiz"),
        _latin("Rahman", "Osman", "Salleh"),
    ),
    "sg-ta": _Culture(
        "SG", _GIVEN_FAMILY, False, " ",
        {"Priya": "பிரியா", "Kavitha": "கவிதா"},
        {"Rajesh": "ராஜேஷ்", "Ganesh": "கணேஷ்"},
        {"Rajendran": "ராஜேந்திரன்", "Krishnasamy": "கிருஷ்ணசாமி", "Muthu": "முத்து"},
    ),
    "lk-si": _Culture(
        "LK", _GIVEN_FAMILY, False, " ",
        {"Dilani": "දිලානි", "Nadeeka": "නදීකා", "Chathurika": "චතුරිකා", "Sanduni": "සඳුනි",
         "Ishara": "ඉෂාරා"},
        {"Chaminda": "චමින්ද", "Kasun": "කසුන්", "Nuwan": "නුවන්", "Ruwan": "රුවන්",
         "Tharindu": "තරිඳු"},
        {"Perera": "පෙරේරා", "Fernando": "ප්‍රනාන්දු", "Jayasinghe": "ජයසිංහ",
         "Silva": "සිල්වා", "Bandara": "බණ්ඩාර", "Gunawardena": "ගුණවර්ධන"},
    ),
    "lk-ge": _Culture(
        "LK", _FAMILY_GIVEN, True, " ",
        {"Nilanthi Kumudini Priyadarshani": "නිලන්ති කුමුදිනී ප්‍රියදර්ශනී",
         "Nadeesha Madushani": "නදීෂා මධුෂානි"},
        {"Sampath Kumara": "සම්පත් කුමාර", "Ajith Priyantha": "අජිත් ප්‍රියන්ත"},
        {"Wickramasinghe Mudiyanselage": "වික්‍රමසිංහ මුදියන්සේලාගේ",
         "Herath Mudiyanselage": "හේරත් මුදියන්සේලාගේ",
         "Ekanayake Mudiyanselage": "ඒකනායක මුදියන්සේලාගේ"},
    ),
    "lk-ta": _Culture(
        "LK", _GIVEN_FAMILY, False, " ",
        {"Tharsini": "தர்சினி", "Nirosha": "நிரோஷா"},
        {"Kajan": "கஜன்", "Suthan": "சுதன்"},
        {"Sivanesan": "சிவநேசன்", "Thevarajah": "தேவராஜா", "Kandiah": "கந்தையா"},
    ),
    "th": _Culture(
        "TH", _GIVEN_FAMILY, False, " ",
        {"Pimchanok": "พิมพ์ชนก", "Siriporn": "ศิริพร", "Phatcharaporn": "พัชราภรณ์",
         "Kanokwan": "กนกวรรณ", "Nattaya": "ณัฐยา", "Waraporn": "วราภรณ์"},
        {"Thanakorn": "ธนากร", "Kittipong": "กิตติพงษ์", "Wirot": "วิโรจน์", "Anuchit": "อนุชิต",
         "Sakchai": "ศักดิ์ชัย", "Prasert": "ประเสริฐ"},
        {"Srisuk": "ศรีสุข", "Rattanaporn": "รัตนพร", "Chaiyasit": "ไชยสิทธิ์",
         "Boonmee": "บุญมี", "Sirisombatwattanakul": "ศิริสมบัติวัฒนกุล",
         "Kaewmanee": "แก้วมณี", "Thongdee": "ทองดี", "Saengthong": "แสงทอง"},
    ),
    "tr": _Culture(
        "TR", _GIVEN_FAMILY, False, " ",
        _latin("Gülay", "Elif", "Şeyma", "Büşra", "Özge"),
        _latin("İbrahim", "Oğuzhan", "Mehmet", "Emre", "Çağrı"),
        _latin("Doğan", "Şahin", "Yıldırım", "Küçük", "Öztürk", "Aydın", "Çelik", "Kılıç",
               "Arslan"),
    ),
    "vn": _Culture(
        "VN", _VIETNAMESE, False, " ",
        _latin("Thị Lan", "Thị Thu Hương", "Minh Ngọc", "Thị Hồng Nhung", "Phương Thảo"),
        _latin("Văn Hùng", "Quốc Dũng", "Đức Anh", "Minh Tuấn", "Văn Thắng"),
        _latin("Nguyễn", "Trần", "Lê", "Phạm", "Đặng", "Hoàng", "Vũ", "Bùi", "Đỗ"),
    ),
    "ph": _Culture(
        "PH", _GIVEN_FAMILY, False, " ",
        _latin("Ma. Lourdes", "Ana Patricia", "Rowena", "Kristine Joy", "Maria Cristina",
               "Rosario", "Mary Grace", "Liza", "Marites", "Honeylyn", "Jocelyn", "Ma. Teresa",
               "Ana", "Jennifer", "Carmela"),
        _latin("Gerardo", "Jerome", "Niño", "Dennis", "Jose Miguel", "Juan Carlos", "Ramon",
               "Rodel", "Arnel", "Mark Anthony", "Noel", "Ernesto", "Rodrigo", "Francis",
               "Paolo"),
        _latin("Villaseñor-Tolentino", "Magbanua", "Soriano", "Dizon", "Pascual", "Navarro",
               "Agustin", "Manalo", "Peñaflor", "Ibañez", "Muñoz", "Dela Cruz", "Santos",
               "Reyes", "Bautista", "Mendoza", "Garcia", "Castillo", "Villanueva", "Nuñez",
               "Salvador", "Cabrera", "De Guzman", "Panganiban", "Macaraeg", "Tolentino",
               "Sarmiento", "Aguilar", "Yñiguez", "Lim"),
    ),
}  # fmt: skip

# Country calling codes, and a Manila-style area code for the host, for fictional numbers.
_CALLING_CODES: dict[str, str] = {
    "BD": "880", "KH": "855", "TW": "886", "FJ": "679", "IN": "91", "ID": "62", "IR": "98",
    "JP": "81", "KR": "82", "LA": "856", "MY": "60", "MN": "976", "NP": "977", "PK": "92",
    "SG": "65", "LK": "94", "TH": "66", "TR": "90", "VN": "84", "PH": "63",
}  # fmt: skip
_AREA_CODES: dict[str, str] = {"PH": "2 "}


def _upper(text: str, country: str) -> str:
    # Python's upper() would turn Turkish "i" into a dotless "I".
    if country == "TR":
        text = text.replace("i", "İ")
    return text.upper()


def _badge_name(culture: _Culture, given: str, family: str, gender: str) -> str:
    if not family:
        return given
    family_caps = _upper(family, culture.country)
    style = culture.badge_style
    if style == _FAMILY_GIVEN:
        return f"{family_caps} {given}"
    if style == _VIETNAMESE:
        return f"{given.split()[-1]} {family_caps}"
    if style == _MALAY:
        return f"{given} {'binti' if gender == 'female' else 'bin'} {family_caps}"
    return f"{given} {family_caps}"


def _native_name(culture: _Culture, given: str, family: str, gender: str) -> str:
    pool = culture.female if gender == "female" else culture.male
    native_given = pool[given]
    native_family = culture.family[family]
    if not native_given or (family and not native_family):
        return ""
    if culture.native_family_first:
        parts = (native_family, native_given)
    else:
        parts = (native_given, native_family)
    return culture.native_sep.join(part for part in parts if part)


# Letters NFKD does not reduce to ASCII on its own.
_ASCII_FOLD = str.maketrans({"ı": "i", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l"})


def _email_base(given: str, family: str) -> str:
    """Turn a Latin name into an email local part: lowercase ASCII words joined by dots."""
    plain = unicodedata.normalize("NFKD", f"{given} {family}".translate(_ASCII_FOLD))
    words = []
    for word in plain.lower().split():
        kept = "".join(ch for ch in word if ch.isascii() and (ch.isalnum() or ch == "-"))
        if kept.strip("-"):
            words.append(kept.strip("-"))
    # 64 is the limit for a local part; leave room for a numeric suffix.
    return ".".join(words)[:60].rstrip(".-") or "attendee"


def _unique_local(base: str, seen: dict[str, int]) -> str:
    # Bases never end in a digit, so base + counter cannot collide with another base.
    count = seen.get(base, 0) + 1
    seen[base] = count
    return base if count == 1 else f"{base}{count}"


def _phone(country: str, number: int) -> str:
    return f"+{_CALLING_CODES[country]} {_AREA_CODES.get(country, '')}5555 {number:04d}"


# --- the 130 demo attendees -------------------------------------------------------------

_DAP = "Development Academy of the Philippines"
_APO = "Asian Productivity Organization Secretariat"

# culture, honorific, gender (f/m), given name, family name, organisation, position, category
_DEMO_ROWS: tuple[tuple[str, str, str, str, str, str, str, str], ...] = (
    ("bd", "Mr.", "m", "Tanvir", "Ahmed", "Ministry of Public Administration",
     "Deputy Secretary", "participant"),
    ("bd", "Ms.", "f", "Nusrat", "Rahman", "Cabinet Division", "Senior Assistant Secretary",
     "participant"),
    ("bd", "Mr.", "m", "Mahmudul", "Hasan",
     "National Productivity Organisation, Ministry of Industries", "Research Officer",
     "participant"),
    ("bd", "Dr.", "f", "Farhana", "Islam", "Bangladesh Public Administration Training Centre",
     "Deputy Director", "participant"),
    ("bd", "Mr.", "m", "Rafiqul", "Alam", "Aspire to Innovate (a2i) Programme, ICT Division",
     "Policy Specialist", "participant"),
    ("bd", "Ms.", "f", "Sharmin", "Chowdhury", "Dhaka North City Corporation",
     "Executive Officer", "participant"),
    ("kh", "Mr.", "m", "Dara", "Sok", "Ministry of Civil Service", "Deputy Director",
     "participant"),
    ("kh", "Ms.", "f", "Sophea", "Chan", "Ministry of Economy and Finance", "Chief of Office",
     "participant"),
    ("kh", "Mr.", "m", "Vuthy", "Keo", "National Productivity Centre of Cambodia",
     "Technical Officer", "participant"),
    ("kh", "Ms.", "f", "Sreymom", "Meas", "Phnom Penh Capital Administration",
     "Deputy Chief of Office", "participant"),
    ("kh", "Mr.", "m", "Rithy", "Heng", "Ministry of Post and Telecommunications",
     "Digital Government Officer", "participant"),
    ("tw", "Ms.", "f", "Yi-Ting", "Chen", "National Development Council", "Section Chief",
     "participant"),
    ("tw", "Mr.", "m", "Chun-Hung", "Huang", "China Productivity Center", "Senior Consultant",
     "participant"),
    ("tw", "Ms.", "f", "Hsiao-Wen", "Wu",
     "Department of Information Technology, Taipei City Government", "Senior Specialist",
     "participant"),
    ("tw", "Mr.", "m", "Cheng-Han", "Tsai", "Ministry of Digital Affairs", "Section Chief",
     "participant"),
    ("tw", "Mr.", "m", "Chih-Wei", "Lin", "Taipei Economic and Cultural Office in the Philippines",
     "Secretary, Economic Division", "observer"),
    ("fj", "Ms.", "f", "Litia", "Naivalu", "Ministry of Civil Service",
     "Principal Human Resources Officer", "participant"),
    ("fj", "Mr.", "m", "Josefa", "Ratulevu",
     "Ministry of Employment, Productivity and Industrial Relations",
     "Senior Productivity Officer", "participant"),
    ("fj-in", "Ms.", "f", "Anjali", "Prasad", "Fiji Revenue and Customs Service",
     "Team Leader, Taxpayer Services", "participant"),
    ("fj", "Mr.", "m", "Seremaia", "Qalo", "Suva City Council", "Manager, Planning",
     "participant"),
    ("in-ta", "Dr.", "f", "Ananya", "Krishnan", "Indian Institute of Public Administration",
     "Associate Professor", "resource_person"),
    ("in-hi", "Mr.", "m", "Rahul", "Verma", "NITI Aayog", "Deputy Adviser", "participant"),
    ("in-hi", "Ms.", "f", "Pooja", "Sharma", "National Productivity Council", "Deputy Director",
     "participant"),
    ("in-hi", "Mr.", "m", "Vikram", "Singh", "Ministry of Electronics and Information Technology",
     "Scientist D", "participant"),
    # The longest organisation name, to exercise wrapping on badges and certificates.
    ("in-ta", "Ms.", "f", "Meenakshi", "Iyer",
     "Department of Administrative Reforms and Public Grievances, Ministry of Personnel, "
     "Public Grievances and Pensions", "Under Secretary", "participant"),
    ("in-ml", "Mr.", "m", "Suresh", "Nair",
     "Local Self Government Department, Government of Kerala",
     "Additional Secretary", "participant"),
    ("id", "Mr.", "m", "Wahyudi", "", "Ministry of Administrative and Bureaucratic Reform",
     "Policy Analyst", "participant"),
    ("id", "Ms.", "f", "Dewi Kartika", "Sari", "National Research and Innovation Agency (BRIN)",
     "Researcher", "participant"),
    ("id", "Mr.", "m", "Agus", "Setiawan", "National Institute of Public Administration (LAN)",
     "Public Sector Innovation Analyst", "participant"),
    ("id", "Ms.", "f", "Rina", "Wulandari", "Surabaya City Government",
     "Head of Section, Regional Innovation", "participant"),
    ("id", "Mr.", "m", "Budi", "Santoso", "Ministry of Manpower", "Productivity Analyst",
     "participant"),
    ("id", "Ms.", "f", "Fitri", "Handayani", _APO, "Program Officer", "secretariat"),
    ("ir", "Mr.", "m", "Reza", "Ahmadi", "National Iranian Productivity Organization",
     "Productivity Expert", "participant"),
    ("ir", "Ms.", "f", "Maryam", "Hosseini", "Administrative and Recruitment Affairs Organization",
     "Senior Expert", "participant"),
    ("ir", "Dr.", "m", "Hamid", "Rezaei", "Plan and Budget Organization", "Deputy Director",
     "participant"),
    ("ir", "Ms.", "f", "Zahra", "Moradi", "Tehran Municipality",
     "Senior Expert, Smart City Department", "participant"),
    ("ir", "Mr.", "m", "Mehdi", "Jafari", "Ministry of Cooperatives, Labour and Social Welfare",
     "Expert", "participant"),
    ("jp", "Prof.", "m", "Kenji", "Morimoto",
     "Graduate School of Public Policy, The University of Tokyo", "Professor",
     "resource_person"),
    ("jp", "Ms.", "f", "Ayaka", "Fujita", _APO, "Program Officer", "secretariat"),
    ("jp", "Mr.", "m", "Takuya", "Saitō", "Digital Agency", "Deputy Director", "participant"),
    ("jp", "Ms.", "f", "Sakura", "Ogawa", "Ministry of Internal Affairs and Communications",
     "Section Chief", "participant"),
    ("jp", "Mr.", "m", "Daisuke", "Yamaguchi", "Japan Productivity Center", "Senior Consultant",
     "participant"),
    ("jp", "Ms.", "f", "Megumi", "Kobayashi", "Policy Bureau, City of Yokohama", "Manager",
     "participant"),
    ("jp", "Mr.", "m", "Shōta", "Ishikawa", "Cabinet Office", "Deputy Director", "participant"),
    ("kr", "Dr.", "m", "Seung-woo", "Han", "Korea Institute of Public Administration",
     "Senior Research Fellow", "resource_person"),
    ("kr", "Ms.", "f", "Eun-ji", "Kim", "Ministry of the Interior and Safety", "Deputy Director",
     "participant"),
    ("kr", "Mr.", "m", "Min-jun", "Lee", "Korea Productivity Center", "Senior Consultant",
     "participant"),
    ("kr", "Ms.", "f", "Soo-yeon", "Choi", "Seoul Metropolitan Government",
     "Team Leader, Digital Policy Division", "participant"),
    ("kr", "Mr.", "m", "Dong-hyun", "Jung", "Ministry of Science and ICT", "Assistant Director",
     "participant"),
    ("kr", "Ms.", "f", "Hye-jin", "Yoon", "Gyeonggi Provincial Government", "Policy Officer",
     "participant"),
    ("la", "Mr.", "m", "Somphone", "Phommavong", "Ministry of Home Affairs",
     "Deputy Director of Division", "participant"),
    ("la", "Ms.", "f", "Khamla", "Sisouphanh", "Ministry of Industry and Commerce",
     "Technical Officer", "participant"),
    ("la", "Mr.", "m", "Bounmy", "Keomany", "Ministry of Technology and Communications",
     "Deputy Head of Division", "participant"),
    ("la", "Ms.", "f", "Vilayvanh", "Inthavong", "Vientiane Capital Administration", "Officer",
     "participant"),
    ("la", "Mr.", "m", "Souksavanh", "Chanthavong", "Ministry of Planning and Investment",
     "Technical Officer", "participant"),
    ("my-ms", "Ms.", "f", "Nurul Aina", "Ahmad", "Malaysia Productivity Corporation",
     "Senior Manager", "participant"),
    ("my-ms", "Mr.", "m", "Muhammad Hafiz", "Ismail", "Public Service Department",
     "Assistant Director", "participant"),
    ("my-zh", "Mr.", "m", "Wei Ming", "Tan", "National Institute of Public Administration (INTAN)",
     "Senior Lecturer", "participant"),
    ("my-ta", "Ms.", "f", "Kavitha", "Subramaniam",
     "Ministry of Science, Technology and Innovation",
     "Assistant Secretary", "participant"),
    ("my-ms", "Mr.", "m", "Amirul Hakim", "Zulkifli", "Embassy of Malaysia, Manila",
     "Second Secretary", "observer"),
    ("mn", "Mr.", "m", "Bat-Erdene", "Gantulga",
     "Cabinet Secretariat of the Government of Mongolia",
     "Officer", "participant"),
    ("mn", "Ms.", "f", "Oyunchimeg", "Dorj", "Civil Service Council", "Senior Officer",
     "participant"),
    ("mn", "Ms.", "f", "Enkhjargal", "Batbayar", "Mongolian Productivity Organization",
     "Consultant", "participant"),
    ("mn", "Mr.", "m", "Ganbold", "Tsogtbaatar",
     "Ministry of Digital Development and Communications",
     "Specialist", "participant"),
    ("mn", "Ms.", "f", "Sarangerel", "Munkhbat", "Office of the Governor of the Capital City",
     "Specialist", "participant"),
    ("np", "Ms.", "f", "Sunita", "Shrestha",
     "Ministry of Federal Affairs and General Administration", "Section Officer", "participant"),
    ("np", "Mr.", "m", "Ramesh", "Adhikari",
     "National Productivity and Economic Development Centre",
     "Productivity Officer", "participant"),
    ("np", "Mr.", "m", "Bikash", "Thapa", "Kathmandu Metropolitan City",
     "Information Technology Officer", "participant"),
    ("np", "Ms.", "f", "Sabina", "Gurung", "Nepal Administrative Staff College",
     "Programme Coordinator", "participant"),
    ("np", "Mr.", "m", "Prakash", "Poudel", "National Planning Commission", "Under Secretary",
     "participant"),
    ("pk", "Mr.", "m", "Usman", "Qureshi", "National Productivity Organization", "Deputy Manager",
     "participant"),
    ("pk", "Ms.", "f", "Sana", "Siddiqui",
     "Ministry of Planning, Development and Special Initiatives",
     "Research Officer", "participant"),
    ("pk", "Mr.", "m", "Bilal", "Hussain", "Establishment Division", "Section Officer",
     "participant"),
    ("pk", "Ms.", "f", "Hina", "Baig", "National School of Public Policy", "Directing Staff",
     "participant"),
    ("pk", "Mr.", "m", "Faisal", "Mehmood", "Punjab Information Technology Board",
     "Senior Programme Manager", "participant"),
    ("pk", "Mr.", "m", "Kamran", "Raza", "Khyber Pakhtunkhwa Information Technology Board",
     "Deputy Director", "participant"),
    ("sg-zh", "Ms.", "f", "Hui Min", "Lim", "Civil Service College", "Principal Consultant",
     "resource_person"),
    ("sg-ms", "Mr.", "m", "Muhammad Farhan", "Rahman", "Government Technology Agency (GovTech)",
     "Product Manager", "participant"),
    ("sg-ta", "Ms.", "f", "Priya", "Rajendran", "Public Service Division, Prime Minister's Office",
     "Senior Manager", "participant"),
    ("sg-zh", "Mr.", "m", "Jun Jie", "Ong",
     "Enterprise Singapore", "Senior Executive, Productivity",
     "participant"),
    # The longest name, to exercise wrapping and shrink-to-fit on badges.
    ("lk-ge", "Ms.", "f", "Nilanthi Kumudini Priyadarshani", "Wickramasinghe Mudiyanselage",
     "Ministry of Public Administration, Home Affairs, Provincial Councils and Local Government",
     "Assistant Director", "participant"),
    ("lk-si", "Mr.", "m", "Chaminda", "Perera", "National Productivity Secretariat",
     "Productivity Development Officer", "participant"),
    ("lk-si", "Ms.", "f", "Dilani", "Fernando",
     "Information and Communication Technology Agency of Sri Lanka", "Project Manager",
     "participant"),
    ("lk-si", "Mr.", "m", "Kasun", "Jayasinghe",
     "Sri Lanka Institute of Development Administration",
     "Consultant", "participant"),
    ("lk-ta", "Mr.", "m", "Kajan", "Sivanesan", "Chief Secretary's Office, Northern Province",
     "Development Officer", "participant"),
    ("th", "Mr.", "m", "Thanakorn", "Srisuk", "Office of the Public Sector Development Commission",
     "Public Sector Development Officer", "participant"),
    ("th", "Ms.", "f", "Pimchanok", "Rattanaporn", "Thailand Productivity Institute",
     "Consultant", "participant"),
    ("th", "Mr.", "m", "Kittipong", "Chaiyasit", "Digital Government Development Agency",
     "Manager", "participant"),
    ("th", "Ms.", "f", "Siriporn", "Boonmee", "Bangkok Metropolitan Administration",
     "Policy and Plan Analyst", "participant"),
    ("th", "Ms.", "f", "Phatcharaporn", "Sirisombatwattanakul", "National Innovation Agency",
     "Senior Innovation Officer", "participant"),
    ("th", "Mr.", "m", "Wirot", "Kaewmanee",
     "Department of Local Administration, Ministry of Interior",
     "Local Administration Officer", "participant"),
    ("tr", "Prof.", "f", "Gülay", "Doğan", "Hacettepe University",
     "Professor of Public Administration", "resource_person"),
    ("tr", "Mr.", "m", "İbrahim", "Şahin", "Digital Transformation Office of the Presidency",
     "Expert", "participant"),
    ("tr", "Ms.", "f", "Elif", "Yıldırım", "Ministry of Industry and Technology",
     "Industry and Technology Expert", "participant"),
    ("tr", "Mr.", "m", "Oğuzhan", "Küçük", "Istanbul Metropolitan Municipality",
     "Smart City Specialist", "participant"),
    ("vn", "Ms.", "f", "Thị Lan", "Nguyễn", "Ministry of Home Affairs",
     "Official, Administrative Reform Department", "participant"),
    ("vn", "Mr.", "m", "Văn Hùng", "Trần", "Vietnam National Productivity Institute",
     "Deputy Head of Division", "participant"),
    ("vn", "Ms.", "f", "Thị Thu Hương", "Lê", "Ho Chi Minh City People's Committee", "Official",
     "participant"),
    ("vn", "Mr.", "m", "Quốc Dũng", "Phạm", "Ministry of Science and Technology", "Official",
     "participant"),
    ("vn", "Ms.", "f", "Minh Ngọc", "Đặng", "Ministry of Planning and Investment", "Senior Expert",
     "participant"),
    # The 30 attendees from the host country.
    ("ph", "Hon.", "f", "Ma. Lourdes", "Villaseñor-Tolentino",
     "Department of Budget and Management",
     "Undersecretary", "vip"),
    ("ph", "Hon.", "m", "Gerardo", "Magbanua", "Department of the Interior and Local Government",
     "Assistant Secretary", "vip"),
    ("ph", "Dr.", "f", "Ana Patricia", "Soriano",
     "University of the Philippines National College of Public Administration and Governance",
     "Associate Professor", "resource_person"),
    ("ph", "Ms.", "f", "Rowena", "Dizon", _DAP,
     "Program Manager, Center of Excellence on Public Sector Productivity", "secretariat"),
    ("ph", "Mr.", "m", "Jerome", "Pascual", _DAP, "Project Officer", "secretariat"),
    ("ph", "Ms.", "f", "Kristine Joy", "Navarro", _DAP, "Project Associate", "secretariat"),
    ("ph", "Mr.", "m", "Niño", "Agustin", _DAP, "Information Technology Officer", "secretariat"),
    ("ph", "Mr.", "m", "Dennis", "Manalo", "National Economic and Development Authority",
     "Senior Economic Development Specialist", "observer"),
    ("ph", "Ms.", "f", "Maria Cristina", "Peñaflor", "Civil Service Commission", "Director III",
     "local_participant"),
    ("ph", "Engr.", "m", "Jose Miguel", "Ibañez",
     "Department of Information and Communications Technology",
     "Information Technology Officer III", "local_participant"),
    ("ph", "Atty.", "f", "Rosario", "Muñoz", "Anti-Red Tape Authority", "Attorney IV",
     "local_participant"),
    ("ph", "Mr.", "m", "Juan Carlos", "Dela Cruz", "Quezon City Government",
     "Planning Officer IV", "local_participant"),
    ("ph", "Ms.", "f", "Mary Grace", "Santos", "Pasig City Government", "Administrative Officer V",
     "local_participant"),
    ("ph", "Dr.", "m", "Ramon", "Reyes", "Department of Science and Technology",
     "Science Research Specialist II", "local_participant"),
    ("ph", "Ms.", "f", "Liza", "Bautista", "Department of Trade and Industry",
     "Trade-Industry Development Specialist", "local_participant"),
    ("ph", "Mr.", "m", "Rodel", "Mendoza", "Cebu City Government",
     "Information Systems Analyst III", "local_participant"),
    ("ph", "Ms.", "f", "Marites", "Garcia", "Philippine Statistics Authority",
     "Statistical Specialist II", "local_participant"),
    ("ph", "Mr.", "m", "Arnel", "Castillo", "Department of Health", "Health Program Officer II",
     "local_participant"),
    ("ph", "Ms.", "f", "Honeylyn", "Villanueva", "Provincial Government of Iloilo",
     "Planning Officer III", "local_participant"),
    ("ph", "Mr.", "m", "Mark Anthony", "Nuñez", "City Government of Valenzuela",
     "Management and Audit Analyst III", "local_participant"),
    ("ph", "Ms.", "f", "Jocelyn", "Salvador", "Bureau of Internal Revenue", "Revenue Officer III",
     "local_participant"),
    ("ph", "Mr.", "m", "Noel", "Cabrera", "Department of Social Welfare and Development",
     "Social Welfare Officer III", "local_participant"),
    ("ph", "Ms.", "f", "Ma. Teresa", "De Guzman", "Philippine Health Insurance Corporation",
     "Corporate Planning Officer", "local_participant"),
    ("ph", "Mr.", "m", "Ernesto", "Panganiban", "Department of Budget and Management",
     "Budget and Management Specialist III", "local_participant"),
    ("ph", "Ms.", "f", "Ana", "Macaraeg", "Department of the Interior and Local Government",
     "Local Government Operations Officer V", "local_participant"),
    ("ph", "Engr.", "m", "Rodrigo", "Tolentino", "Department of Public Works and Highways",
     "Engineer IV", "local_participant"),
    ("ph", "Ms.", "f", "Jennifer", "Sarmiento", "Civil Service Commission",
     "Human Resource Specialist II", "local_participant"),
    ("ph", "Mr.", "m", "Francis", "Aguilar", "National Economic and Development Authority",
     "Economic Development Specialist II", "local_participant"),
    ("ph", "Ms.", "f", "Carmela", "Yñiguez",
     "Department of Information and Communications Technology",
     "Project Development Officer III", "local_participant"),
    ("ph", "Mr.", "m", "Paolo", "Lim", "Philippine Statistics Authority",
     "Information Technology Officer I", "local_participant"),
)  # fmt: skip

_GENDERS: dict[str, str] = {"f": "female", "m": "male"}


def _person(
    culture: _Culture, gender: str, given: str, family: str
) -> tuple[str, str, str, str, str]:
    """Name fields of one person: given, family, badge name, native name, email base."""
    return (
        given,
        family,
        _badge_name(culture, given, family, gender),
        _native_name(culture, given, family, gender),
        _email_base(given, family),
    )


def demo_attendees() -> list[dict[str, str]]:
    """Return the demo event's 130 fictional attendees, the same list on every call.

    The 100 overseas attendees are those from outside the Philippines, whatever their
    category; the 30 local attendees are those from the Philippines. Only overseas attendees
    are ``participant`` and only local ones are ``local_participant``.
    """
    seen: dict[str, int] = {}
    per_country: dict[str, int] = {}
    attendees: list[dict[str, str]] = []
    for index, row in enumerate(_DEMO_ROWS):
        culture_key, honorific, sex, given, family, organisation, position, category = row
        culture = _CULTURES[culture_key]
        gender = _GENDERS[sex]
        _, _, badge, native, base = _person(culture, gender, given, family)
        country = culture.country
        per_country[country] = per_country.get(country, 0) + 1
        # Some people give no phone number; the registry must cope with that.
        phone = "" if index % 9 == 4 else _phone(country, 100 + per_country[country])
        attendees.append(
            {
                "given_name": given,
                "family_name": family,
                "badge_name": badge,
                "native_name": native,
                "honorific": honorific,
                "gender": gender,
                "country": country,
                "organisation": organisation,
                "position": position,
                "category": category,
                "email": f"{_unique_local(base, seen)}@example.org",
                "phone": phone,
            }
        )
    return attendees


# --- synthetic attendees for the 100,000-attendee benchmark -----------------------------

_Person = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class _SyntheticTables:
    cultures: tuple[str, ...]  # one entry per demo attendee, so picks follow the demo mix
    people: Mapping[str, tuple[tuple[_Person, ...], tuple[_Person, ...]]]  # female, male
    organisations: Mapping[str, tuple[str, ...]]
    positions: Mapping[str, tuple[str, ...]]


@functools.cache
def _synthetic_tables() -> _SyntheticTables:
    # Every name combination is worked out once, so generating an attendee is a few lookups.
    people: dict[str, tuple[tuple[_Person, ...], tuple[_Person, ...]]] = {}
    for key, culture in _CULTURES.items():
        female = tuple(
            _person(culture, "female", given, family)
            for given in culture.female
            for family in culture.family
        )
        male = tuple(
            _person(culture, "male", given, family)
            for given in culture.male
            for family in culture.family
        )
        people[key] = (female, male)
    organisations: dict[str, list[str]] = {}
    positions: dict[str, list[str]] = {}
    # Posts of secretariat staff, VIPs and speakers would be odd on a crowd of participants.
    for row in _DEMO_ROWS:
        if row[7] not in ("participant", "local_participant"):
            continue
        country = _CULTURES[row[0]].country
        for table, value in ((organisations, row[5]), (positions, row[6])):
            values = table.setdefault(country, [])
            if value not in values:
                values.append(value)
    return _SyntheticTables(
        cultures=tuple(row[0] for row in _DEMO_ROWS),
        people=people,
        organisations={country: tuple(values) for country, values in organisations.items()},
        positions={country: tuple(values) for country, values in positions.items()},
    )


# Rare categories among generated attendees; the rest are (local) participants.
_RARE_CATEGORIES: tuple[str, ...] = (
    ("resource_person",) * 4 + ("observer",) * 3 + ("secretariat",) * 4 + ("vip",)
)


def synthetic_attendees(n: int, seed: int = 0) -> Iterator[dict[str, str]]:
    """Yield ``n`` fictional attendees shaped like ``demo_attendees()``, the same for a seed.

    Countries and name cultures follow the demo event's mix; emails are unique across the
    run and use example.net, so they never clash with the demo's example.org addresses.
    """
    if n < 0:
        raise ValueError(f"the number of attendees must not be negative, got {n}")
    tables = _synthetic_tables()
    rng = random.Random(seed)
    rand = rng.random
    cultures = tables.cultures
    seen: dict[str, int] = {}
    for index in range(n):
        culture_key = cultures[int(rand() * len(cultures))]
        country = _CULTURES[culture_key].country
        is_female = rand() < 0.5
        pool = tables.people[culture_key][0 if is_female else 1]
        given, family, badge, native, base = pool[int(rand() * len(pool))]
        organisations = tables.organisations[country]
        positions = tables.positions[country]
        roll = rand()
        if roll < 0.03:
            category = _RARE_CATEGORIES[int(roll / 0.03 * len(_RARE_CATEGORIES))]
        else:
            category = "local_participant" if country == "PH" else "participant"
        honorific = "Dr." if roll > 0.92 else ("Ms." if is_female else "Mr.")
        yield {
            "given_name": given,
            "family_name": family,
            "badge_name": badge,
            "native_name": native,
            "honorific": honorific,
            "gender": "female" if is_female else "male",
            "country": country,
            "organisation": organisations[int(rand() * len(organisations))],
            "position": positions[int(rand() * len(positions))],
            "category": category,
            "email": f"{_unique_local(base, seen)}@example.net",
            "phone": "" if index % 10 == 7 else _phone(country, index % 10_000),
        }
