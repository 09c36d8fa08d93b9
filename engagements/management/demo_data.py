"""Fixed word lists for the demo data set: deterministic, so seeding is repeatable."""

FIRST_NAMES = (
    "Alex Amira Ben Camille Chloé Daniel Dana Elif Emma Farah Felix Grace Hannah Hugo Ines Isaac "
    "Jonas Julia Kai Karin Leila Liam Lucía Maya Mateo Mei Nadia Noah Omar Priya Rafael Rosa "
    "Samuel Sara Sofia Tariq Theo Uma Yara Zoe"
).split()
LAST_NAMES = (
    "Morgan Okafor Lindqvist Moreau Haddad Novak Whitfield Demir Fischer Rahman Schulz Kim "
    "Berg Laurent Costa Levi Weber Rossi Tanaka Nilsson Aziz Brennan García Patel Silva Chen "
    "Ivanova Cohen Farouk Raman Duarte Müller Adeyemi Jensen Romero Khan Dubois Sato Yilmaz Hart"
).split()
SPECIALTIES = [
    "Leadership",
    "New managers",
    "Career transitions",
    "Communication",
    "Resilience and stress",
    "Executive presence",
    "Team performance",
    "Work-life balance",
    "Conflict and difficult conversations",
    "Strategic thinking",
]
LANGUAGES = [
    ("en", "English"),
    ("fr", "French"),
    ("de", "German"),
    ("es", "Spanish"),
    ("pt", "Portuguese"),
    ("it", "Italian"),
    ("nl", "Dutch"),
    ("ja", "Japanese"),
    ("zh", "Chinese"),
    ("ar", "Arabic"),
]
TIME_ZONES = [
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Sao_Paulo",
    "Asia/Singapore",
    "Asia/Tokyo",
]
HEADLINES = [
    "Helping new managers find their footing",
    "Leadership coach for engineers and scientists",
    "From overwhelm to focus: resilience coaching",
    "Career moves with clarity and confidence",
    "Executive presence for first-time leaders",
    "Building teams that trust each other",
    "Hard conversations, handled well",
    "Strategy for people who are stuck in the weeds",
]
BIO = (
    "I have coached {n} leaders across Europe and the Americas over the last {years} years. "
    "Before coaching I spent a decade in {field}, so I know the pressure of delivering while "
    "growing a team. My sessions are practical: we agree on one or two goals, try things "
    "between sessions and look honestly at what worked. ICF-accredited (PCC)."
)
FIELDS = ["product management", "consulting", "operations", "finance", "software engineering"]
NOTES = [
    "Worked on delegation; agreed to hand over the weekly report.",
    "Explored the feedback conversation with their manager; role-played the opening.",
    "Mapped energy drains; experiment: no meetings before 10:00 on Tuesdays.",
    "Prepared for the promotion panel; clarified three stories to tell.",
]
