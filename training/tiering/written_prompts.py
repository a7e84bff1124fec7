"""Project-written prompts (source ``tollgate-written``) for the tier classifier's dataset.

The third-party prompts (OpenAI evals, HumanEval) are mostly benchmark items; everyday enterprise traffic
(review sentiment, ticket triage, email routing, short translations, capital-of questions, vs. "write a
function with these requirements", "debug this stack trace", "plan a migration", "extract this contract into
a JSON schema") is thin there. These templates fill that gap. They are written by the Tollgate project, filled
from slot lists with a seeded ``random.Random``, so :func:`written_prompts` returns the same rows on every run.
Each family is labelled with the tier the product brief gives its task type; the dataset keeps them to a
minority of the rows and the evaluation reports third-party rows separately.
"""

from __future__ import annotations

import random
from collections.abc import Callable

__all__ = ["WRITTEN_FAMILIES", "written_prompts"]

_PRODUCTS = ["pizza", "wireless earbuds", "hotel room", "running shoes", "coffee maker", "laptop", "car rental",
             "yoga class", "phone case", "sofa", "delivery service", "banking app", "hair dryer", "tent",
             "streaming service", "vacuum cleaner", "restaurant", "flight", "keyboard", "jacket"]
_GOOD = ["was great", "exceeded my expectations", "works perfectly", "is worth every penny", "arrived early and works well",
         "made my day", "is the best I've had", "was friendly and fast"]
_BAD = ["broke after two days", "was cold and late", "is a waste of money", "stopped working", "was rude and slow",
        "smelled terrible", "never arrived", "is way too noisy"]
_MIXED = ["is okay I guess", "was fine, nothing special", "does the job but the price is high", "is average"]
_LANGS = ["French", "Spanish", "German", "Italian", "Portuguese", "Dutch", "Japanese", "Polish"]
_SENTENCES = ["Where is the train station?", "The meeting is moved to Thursday.", "Thank you for your order.",
              "Please close the door.", "Our office opens at nine.", "I would like a table for two.",
              "The invoice is attached.", "How much does this cost?", "We are out of stock.",
              "Happy birthday, have a wonderful day!", "Your package has shipped.", "I am running late."]
_COUNTRIES = ["France", "Japan", "Brazil", "Canada", "Kenya", "Australia", "Norway", "Egypt", "Mexico", "India",
              "Chile", "Vietnam", "Poland", "Morocco", "Peru", "Sweden", "Ghana", "Thailand", "Greece", "Argentina"]
_TICKETS = ["I can't log in to my account since this morning", "I was charged twice for my subscription",
            "The app crashes when I open settings", "How do I change my email address?",
            "My invoice shows the wrong VAT number", "The export button does nothing",
            "Please delete my account", "I never received the password reset email",
            "Why did my plan price go up?", "The dashboard loads very slowly"]
_EMAILS = ["Hi, attached is my receipt for the team dinner, please reimburse.",
           "We'd like a demo of your enterprise plan for 200 seats.",
           "My laptop won't connect to the VPN from home.",
           "I'm starting on Monday - where do I pick up my badge?",
           "The payment for invoice 4471 is 30 days overdue.",
           "Could you update my bank details for payroll?",
           "A journalist asked for a comment on our new product launch."]
_DEPARTMENTS = "Finance, Sales, IT, HR, Legal, Marketing"
_INTENTS = ["book_flight", "cancel_order", "track_package", "reset_password", "talk_to_agent", "update_address"]
_UTTERANCES = ["where is my parcel", "I need to get to Berlin next Friday", "forgot my password again",
               "I want a human please", "stop my order, I changed my mind", "I moved to a new flat",
               "has my package left the warehouse?", "get me a seat to Rome on Monday"]
_TYPO_SENTENCES = ["Their going to the store tomorow.", "I has finished the report yesterday.",
                   "Can you send me the the file?", "We was not informed about the change.",
                   "The datas are stored in a tabel.", "She dont like meetings on monday.",
                   "Its a good idea to backup you're files.", "He recieved the package on friday."]
_FACTS = ["Who wrote Pride and Prejudice?", "What is the boiling point of water in Fahrenheit?",
          "How many continents are there?", "What year did the Berlin Wall fall?",
          "What is the largest planet in the solar system?", "Who painted the Mona Lisa?",
          "What does HTTP stand for?", "What does SQL stand for?", "What is the chemical symbol for gold?",
          "How many days are in a leap year?", "What currency is used in Japan?", "Is a tomato a fruit?",
          "What is a Python list?", "What port does HTTPS use by default?", "Is JSON case sensitive?",
          "What is the tallest mountain on Earth?", "Who was the first person on the Moon?",
          "What language is spoken in Brazil?", "Is Git the same as GitHub?", "What is an API key?"]
_CHAT = ["Hi there! How are you today?", "Good morning!", "Thanks, that was really helpful.",
         "Tell me a fun fact about {animal}.", "Can you recommend a name for my {animal}?",
         "What's a good weekend activity when it rains?", "I'm bored, tell me a joke.",
         "Say hello to my team in a friendly way.", "What should I cook tonight with {food}?",
         "Give me a motivational quote for Monday."]
_ANIMALS = ["cat", "dog", "octopus", "parrot", "hamster", "turtle", "owl", "dolphin"]
_FOODS = ["rice and eggs", "pasta and tomatoes", "chicken and broccoli", "lentils", "potatoes and cheese"]
_PARAGRAPHS = [
    ("The quarterly meeting covered sales growth of 8 percent, a new hire in support, and the decision to move the "
    "product launch from May to June because the supplier delayed the packaging."),
    ("Our office will be closed on Friday for maintenance of the heating system. Employees can work from home, and "
    "the helpdesk will answer only urgent requests by phone."),
    ("The city council approved a new bike lane along Main Street. Construction starts in spring and will take about "
    "three months; parking on the east side will be reduced during that time."),
    ("Customers reported that the mobile app logs them out after every update. The team found a bug in token storage "
    "and will ship a fix in version 4.2 next week."),
]
_TONES = ["more polite", "more formal", "friendlier", "shorter", "more concise", "more professional"]
_BLUNT = ["Send me the report now.", "Your product is broken, fix it.", "We can't do the meeting, pick another day.",
          "I told you this twice already.", "No, that price is too high.", "The slides are late again."]
_UNITS = [("5 km", "miles"), ("100 Fahrenheit", "Celsius"), ("3 pounds", "kilograms"), ("2 liters", "cups"),
          ("12 inches", "centimeters"), ("90 minutes", "hours"), ("1 gallon", "liters"), ("60 mph", "km/h")]

# --- Tier 2 slots ---------------------------------------------------------------------------------------------
_CODE_LANGS = ["Python", "TypeScript", "Go", "Java", "Rust", "C#", "Kotlin", "C++"]
_CODE_TASKS = [
    "parses an ISO-8601 duration string and returns the number of seconds",
    "merges overlapping time intervals and returns them sorted",
    "implements an LRU cache with O(1) get and put",
    "validates an IBAN and returns a descriptive error when it is invalid",
    "reads a CSV file of transactions and returns the monthly totals per category",
    "retries an HTTP request with exponential backoff and jitter",
    "computes the shortest path in a weighted graph with Dijkstra's algorithm",
    "tokenises an arithmetic expression and evaluates it with operator precedence",
    "rate-limits calls per API key with a token bucket",
    "diffs two JSON documents and reports added, removed and changed keys",
    "streams a large log file and counts error lines per hour",
    "deduplicates customer records by fuzzy matching names and emails",
]
_CODE_REQS = ["Include unit tests.", "Handle edge cases and invalid input.", "Add type hints and docstrings.",
              "It must be thread-safe.", "Explain the time complexity.", "Do not use external libraries.",
              "Write it so it can be reused as a library, with error handling."]
_ERRORS = [
    ("Python", "Traceback (most recent call last):\n  File \"app.py\", line 42, in handler\n    total = sum(item['price'] for item in cart)\nTypeError: string indices must be integers",
     "def handler(cart):\n    total = sum(item['price'] for item in cart)\n    return {'total': total}"),
    ("JavaScript", "TypeError: Cannot read properties of undefined (reading 'map')\n    at UserList (UserList.jsx:12:23)",
     "function UserList({ data }) {\n  return <ul>{data.users.map(u => <li key={u.id}>{u.name}</li>)}</ul>;\n}"),
    ("Java", "Exception in thread \"main\" java.util.ConcurrentModificationException\n\tat java.util.ArrayList$Itr.next(ArrayList.java:1013)\n\tat Main.prune(Main.java:18)",
     "for (String s : names) {\n    if (s.isEmpty()) {\n        names.remove(s);\n    }\n}"),
    ("Go", "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 [chan send]:\nmain.main()\n\t/app/main.go:9 +0x37",
     "func main() {\n    ch := make(chan int)\n    ch <- 1\n    fmt.Println(<-ch)\n}"),
    ("SQL", "ERROR: column \"orders.total\" must appear in the GROUP BY clause or be used in an aggregate function",
     "SELECT customer_id, orders.total, COUNT(*) FROM orders GROUP BY customer_id;"),
]
_SQL_TASKS = [
    "returns the top 5 customers by revenue in the last 90 days, with their number of orders",
    "finds users who signed up but never placed an order, grouped by signup month",
    "computes a 7-day rolling average of daily active users",
    "lists products whose stock fell below the reorder level, joined with their supplier's email",
    "calculates month-over-month revenue growth per region",
    "finds duplicate invoices (same vendor, amount and date) and keeps the earliest one",
]
_SCHEMAS = ["customers(id, name, region, created_at), orders(id, customer_id, total, created_at)",
            "users(id, email, signup_at), events(id, user_id, kind, at)",
            "products(id, name, stock, reorder_level, supplier_id), suppliers(id, name, email)"]
_MIGRATIONS = [("our monolithic Django app", "microservices on Kubernetes"),
               ("a PostgreSQL 11 database of 4 TB", "PostgreSQL 16 on a managed service"),
               ("on-premise Jenkins pipelines", "GitHub Actions"),
               ("a MySQL-backed session store", "Redis Cluster"),
               ("a REST API used by mobile clients", "GraphQL"),
               ("our data warehouse on Hadoop", "Snowflake")]
_MIGRATION_NEEDS = ["zero downtime", "a rollback plan", "data validation at each step", "a timeline for a team of four",
                    "risks and mitigations", "how to keep both systems in sync during the cut-over"]
_PROOFS = ["the square root of 2 is irrational", "there are infinitely many primes",
           "the sum of the first n odd numbers is n squared", "every tree with n nodes has n - 1 edges",
           "the product of two consecutive integers is even", "a graph is bipartite iff it has no odd cycle",
           "the harmonic series diverges", "log(n!) is Theta(n log n)"]
_DERIVES = ["the formula for the variance of a binomial distribution", "the closed form of the Fibonacci numbers",
            "the gradient of the logistic regression loss", "the quadratic formula by completing the square",
            "the expected number of coin flips to get two heads in a row"]
_ANALYSES = [("event sourcing", "a CRUD data model", "an order-management system"),
             ("a data lake", "a data warehouse", "a mid-size retailer"),
             ("building on Kafka", "using a managed queue like SQS", "a payments platform"),
             ("fine-tuning a small model", "prompting a frontier model", "a customer-support assistant"),
             ("monorepo", "polyrepo", "an engineering org of 300 people"),
             ("raising prices 10 %", "adding a usage-based tier", "a B2B SaaS product with 2,000 customers")]
_CLAUSES = [
    ("This Master Services Agreement (the \"Agreement\") is entered into on {date} by and between {a}, a Delaware "
    "corporation (\"Provider\"), and {b}, a company organised under the laws of {country} (\"Customer\")."),
    ("The initial term shall be {years} years from the Effective Date and renew automatically for successive one-year "
    "terms unless either party gives {notice} days' written notice."),
    ("Customer shall pay Provider a monthly fee of ${fee} within 30 days of invoice; late payments accrue interest of "
    "1.5 % per month."),
    ("Provider's total liability shall not exceed the fees paid in the twelve months preceding the claim, except for "
    "breaches of Section 9 (Confidentiality)."),
    ("Either party may terminate for material breach not cured within 30 days of notice. Notices go to {a}, Attn: Legal, "
    "and to {b}, Attn: {person}."),
    "This Agreement is governed by the laws of the State of New York; disputes go to binding arbitration in New York City.",
]
_COMPANIES = ["Acme Analytics Inc.", "Northwind Traders Ltd.", "Globex Corporation", "Initech LLC", "Umbrella Health GmbH",
              "Stark Logistics SA", "Wayne Data Systems", "Hooli Cloud Services"]
_PEOPLE = ["Maria Lopez", "Chen Wei", "Amara Okafor", "John Smith", "Priya Natarajan", "Lukas Meyer"]
_JSON_FIELDS = ["parties (name, role, jurisdiction)", "effective_date", "term_years", "renewal", "notice_days",
                "monthly_fee", "liability_cap", "governing_law", "termination_conditions", "contacts"]
_PUZZLE_NAMES = ["Alice", "Bob", "Carla", "Dev", "Emma", "Farid"]
_PUZZLE_ITEMS = ["a red", "a blue", "a green", "a yellow", "a white"]


def _sentiment(r: random.Random) -> str:
    review = f"The {r.choice(_PRODUCTS)} {r.choice(r.choice([_GOOD, _BAD, _MIXED]))}!"
    return r.choice([
        f"What is the sentiment of this review: '{review}'",
        f"Is this review positive, negative or neutral? {review}",
        f"Classify the sentiment (positive/negative/neutral): \"{review}\"",
        f"Sentiment? {review}",
        f"Rate the customer's mood in one word: {review}",
    ])


def _ticket(r: random.Random) -> str:
    cats = r.choice(["billing, technical or account", "bug, question, feature request",
                     "billing / login / performance / other"])
    return r.choice([f"Classify this support ticket as {cats}: {r.choice(_TICKETS)}",
                     f"Which category fits this ticket ({cats})?\n\n{r.choice(_TICKETS)}",
                     f"Tag this customer message with one of: {cats}. Message: \"{r.choice(_TICKETS)}\""])


def _route(r: random.Random) -> str:
    return r.choice([f"Which department should handle this email? Options: {_DEPARTMENTS}.\n\n{r.choice(_EMAILS)}",
                     f"Route this email to the right team ({_DEPARTMENTS}): {r.choice(_EMAILS)}",
                     f"Who should I forward this to - {_DEPARTMENTS}? \"{r.choice(_EMAILS)}\""])


def _intent(r: random.Random) -> str:
    return r.choice([f"User said: '{r.choice(_UTTERANCES)}'. Which intent is it: {', '.join(_INTENTS)}?",
                     f"Pick the intent for \"{r.choice(_UTTERANCES)}\" from {', '.join(_INTENTS)}. Reply with the label."])


def _translate(r: random.Random) -> str:
    lang, sentence = r.choice(_LANGS), r.choice(_SENTENCES)
    return r.choice([f"Translate to {lang}: {sentence}", f"How do you say \"{sentence}\" in {lang}?",
                     f"Translate this sentence into {lang}, please: {sentence}"])


def _factual(r: random.Random) -> str:
    country = r.choice(_COUNTRIES)
    return r.choice([f"What is the capital of {country}?", f"What currency does {country} use?",
                     f"Which continent is {country} in?", r.choice(_FACTS), r.choice(_FACTS),
                     f"Is {country} bigger than {r.choice(_COUNTRIES)}? Answer yes or no."])


def _proofread(r: random.Random) -> str:
    s = r.choice(_TYPO_SENTENCES)
    return r.choice([f"Fix the grammar: {s}", f"Proofread this sentence: \"{s}\"", f"Correct the spelling: {s}"])


def _rewrite(r: random.Random) -> str:
    return f"Rewrite this {r.choice(_TONES)}: \"{r.choice(_BLUNT)}\""


def _summary(r: random.Random) -> str:
    p = r.choice(_PARAGRAPHS)
    return r.choice([f"Summarize in one sentence:\n\n{p}", f"TL;DR this for me: {p}",
                     f"Give me a short summary of this note: {p}"])


def _chat(r: random.Random) -> str:
    return r.choice(_CHAT).format(animal=r.choice(_ANIMALS), food=r.choice(_FOODS))


def _arithmetic(r: random.Random) -> str:
    a, b = r.randint(2, 999), r.randint(2, 99)
    q, (amount, unit) = r.choice(["+", "-", "*", "/"]), r.choice(_UNITS)
    return r.choice([f"What is {a} {q} {b}?", f"What's {b}% of {a}?", f"Convert {amount} to {unit}.",
                     f"How much is {a} divided by {b}?", f"Add {a} and {b}."])


def _code_write(r: random.Random) -> str:
    lang, task = r.choice(_CODE_LANGS), r.choice(_CODE_TASKS)
    reqs = " ".join(r.sample(_CODE_REQS, r.randint(0, 2)))
    return r.choice([f"Write a {lang} function that {task}. {reqs}".strip(),
                     (f"Implement a {lang} module that {task}.\nRequirements:\n1. {r.choice(_CODE_REQS)}\n"
                     f"2. {r.choice(_CODE_REQS)}\n3. Provide example usage."),
                     f"I need {lang} code that {task}. {reqs}".strip(),
                     f"Can you write a class in {lang} that {task}?"])


def _code_debug(r: random.Random) -> str:
    lang, trace, code = r.choice(_ERRORS)
    return r.choice([f"I get this error:\n\n{trace}\n\nHere is the code:\n```\n{code}\n```\nWhat is wrong and how do I fix it?",
                     f"Debug this {lang} code. It fails with:\n{trace}\n\n```\n{code}\n```",
                     f"Why does this happen and what's the proper fix?\n{trace}"])


def _sql(r: random.Random) -> str:
    return r.choice([f"Write a SQL query that {r.choice(_SQL_TASKS)}. Tables: {r.choice(_SCHEMAS)}.",
                     (f"Given the schema {r.choice(_SCHEMAS)}, write a PostgreSQL query that {r.choice(_SQL_TASKS)} "
                     "and explain how it handles ties and NULLs.")])


def _migration(r: random.Random) -> str:
    src, dst = r.choice(_MIGRATIONS)
    needs = ", ".join(r.sample(_MIGRATION_NEEDS, 3))
    return r.choice([f"Plan a multi-step migration of {src} to {dst}. Cover {needs}.",
                     f"We need to move {src} to {dst}. Write a detailed step-by-step plan including {needs}."])


def _proof(r: random.Random) -> str:
    return r.choice([f"Prove that {r.choice(_PROOFS)}.", f"Give a rigorous proof that {r.choice(_PROOFS)}.",
                     f"Derive {r.choice(_DERIVES)}. Show every step.",
                     f"Can you derive {r.choice(_DERIVES)} and explain the intuition?"])


def _word_problem(r: random.Random) -> str:
    s1, s2, gap = r.randint(40, 90), r.randint(60, 120), r.randint(1, 3)
    w1, w2 = r.randint(3, 12), r.randint(4, 15)
    p, pct, yrs = r.randint(1000, 20000), r.randint(2, 9), r.randint(3, 10)
    return r.choice([
        (f"A train leaves at {r.randint(1, 6)}pm at {s1} km/h; a second one leaves {gap} hours later from the same "
        f"station at {s1 + s2 // 3} km/h. When does the second catch up? Explain step by step."),
        (f"One pipe fills a tank in {w1} hours and another empties it in {w1 + w2} hours. If both are open, how long "
        "does it take to fill the tank? Show your work."),
        (f"I invest ${p} at {pct}% compounded monthly and add $100 every month. How much do I have after {yrs} years, "
        f"and how much of it is interest? Walk me through the calculation."),
        (f"A shop sells pens at 3 for $2 and notebooks at $4 each. Sam buys {w1} more pens than notebooks and spends "
        f"${w2 * 6}. How many of each did he buy?"),
        (f"Alice is {w1} years older than Bob. In {w2} years she will be twice as old as Bob was {gap} years ago. "
        "How old are they now?"),
    ])


def _logic(r: random.Random) -> str:
    names = r.sample(_PUZZLE_NAMES, 4)
    houses = r.sample(_PUZZLE_ITEMS, 4)
    return (f"{', '.join(names)} live in four houses in a row painted {', '.join(h.split()[1] for h in houses)}. "
            f"{names[0]} lives next to the {houses[1].split()[1]} house. {names[1]} does not live at either end. "
            f"The {houses[2].split()[1]} house is directly left of {names[2]}'s house. {names[3]} lives in "
            f"{houses[3]} house. Who lives where? Reason through the constraints.")


def _extraction(r: random.Random) -> str:
    a, b = r.sample(_COMPANIES, 2)
    values = {"date": f"{r.randint(1, 28)} March {r.randint(2019, 2025)}", "a": a, "b": b,
              "country": r.choice(_COUNTRIES), "years": r.randint(1, 5), "notice": r.choice([30, 60, 90]),
              "fee": f"{r.randint(2, 90)},{r.randint(100, 999)}", "person": r.choice(_PEOPLE)}
    contract = "\n\n".join(f"{i + 1}. {c.format(**values)}" for i, c in enumerate(_CLAUSES))
    fields = ", ".join(r.sample(_JSON_FIELDS, r.randint(5, 8)))
    return r.choice([(f"Extract all entities from this contract into JSON with the fields {fields}. Use null for missing "
                     f"values.\n\n{contract}"),
                     (f"Read the agreement below and return a JSON object matching this schema: {{{fields}}}. Then list "
                     f"any clauses that are unusual.\n\n{contract}")])


def _analysis(r: random.Random) -> str:
    x, y, ctx = r.choice(_ANALYSES)
    return r.choice([(f"Write a detailed analysis of {x} versus {y} for {ctx}: costs, risks, team impact and a "
                     "recommendation."),
                     (f"Compare {x} and {y} for {ctx} in depth. Consider scalability, failure modes and migration "
                     "cost, and end with a decision matrix.")])


_SYSTEMS = ["our Postgres primary", "the Kubernetes ingress", "the checkout service", "our Kafka consumers",
            "the nightly ETL job", "the Redis cache", "our React front end", "the search API"]
_SYMPTOMS = ["is at 95% CPU since the last deploy", "times out for about 2% of requests", ("leaks memory until it is "
             "OOM-killed every few hours"), "lags further behind every day", "got 3x slower after we doubled traffic",
             "returns stale data after failovers", "deadlocks under load"]
_DESIGNS = ["a URL shortener for 100M links", "a multi-tenant rate limiter", "an audit log that cannot be tampered with",
            "a feature-flag service", "a notification system with retries and user preferences",
            "a document search over 10M PDFs", "an idempotent payment API", "a job scheduler with priorities"]
_SHORT_CODE = ["Implement quicksort in {lang}.", "Write a trie in {lang} with insert, search and prefix search.",
               "Implement a thread-safe bounded queue in {lang}.", "Write a {lang} parser for RFC 4180 CSV.",
               "Refactor a 500-line {lang} function into testable units - how would you approach it?",
               "Port this retry decorator from Python to {lang} and keep its semantics."]


def _diagnosis(r: random.Random) -> str:
    system, symptom = r.choice(_SYSTEMS), r.choice(_SYMPTOMS)
    return r.choice([f"{system[0].upper() + system[1:]} {symptom}. Walk me through diagnosing it and propose fixes.",
                     f"Why might {system} {symptom.replace('is ', 'be ', 1)}? List hypotheses and how to test each.",
                     f"Root-cause this: {system} {symptom}. What would you check first, and why?"])


def _design(r: random.Random) -> str:
    return r.choice([f"Design {r.choice(_DESIGNS)}.", (f"How would you design {r.choice(_DESIGNS)}? Cover data model, "
                     "APIs, scaling and failure handling."), f"Sketch the architecture of {r.choice(_DESIGNS)}."])


def _short_code(r: random.Random) -> str:
    return r.choice(_SHORT_CODE).format(lang=r.choice(_CODE_LANGS))


_DOCUMENTS = ["quarterly financial report", "software license agreement", "master services agreement",
              "privacy policy", "incident postmortem", "vendor security questionnaire", "board meeting memo",
              "clinical study summary", "commercial lease", "annual sustainability report", "insurance policy",
              "employee handbook", "data processing agreement", "investor pitch deck"]
_REVIEW_TASKS = ["identify every clause that restricts commercial use and assess the risk for {who}",
                 "compute the year-over-year change of each segment and explain what drove it",
                 "summarize the obligations of each party and flag anything non-standard",
                 "list the material risks, rate their likelihood and impact, and propose mitigations",
                 "find the inconsistencies between its sections and explain why each one matters",
                 "extract the key figures, reconcile them with the stated totals, and recommend next steps",
                 "assess whether it complies with GDPR and list the gaps with suggested remediations"]
_AUDIENCES = ["a SaaS start-up", "our procurement team", "the CFO", "a mid-size retailer", "the board",
              "our legal department", "a hospital group"]
_DOC_FACTS = [("the notice period", "Either party may terminate this agreement with {n} days' written notice."),
              ("the payment term", "Invoices are payable within {n} days of receipt."),
              ("the renewal period", "This agreement renews automatically for successive {n}-month terms."),
              ("the late fee", "Late payments incur a fee of {n}% per month."),
              ("the warranty period", "The supplier warrants the goods for {n} months from delivery."),
              ("the headcount", "The team grew to {n} employees by the end of the year."),
              ("the response time", "Critical incidents will be acknowledged within {n} minutes.")]


def _document_review(r: random.Random) -> str:
    document = r.choice(_DOCUMENTS)
    task = r.choice(_REVIEW_TASKS).format(who=r.choice(_AUDIENCES))
    return r.choice([f"Review this {document} and {task}.",
                     f"Analyze the attached {document}: {task}, then write a recommendation for {r.choice(_AUDIENCES)}.",
                     f"Here is our {document}. Please {task}; be thorough and cite the sections you rely on."])


def _document_lookup(r: random.Random) -> str:
    field, sentence = r.choice(_DOC_FACTS)
    sentence = sentence.format(n=r.choice([5, 7, 10, 12, 14, 15, 24, 30, 45, 60, 90]))
    return r.choice([f"In this sentence from our {r.choice(_DOCUMENTS)}, what is {field}? '{sentence}'",
                     f"What is {field} here? \"{sentence}\"",
                     f"Quick question - {field} in this line: {sentence}"])


# family -> (tier, generator, rows). Tier 1: classification, sentiment, routing, short factual, rewrites, short
# translation and summaries, chit-chat, single-step arithmetic, one fact looked up in one sentence. Tier 2: code,
# multi-step math and logic, structured extraction from long text, review and analysis of whole documents,
# long-form expert analysis and planning.
WRITTEN_FAMILIES: dict[str, tuple[int, Callable[[random.Random], str], int]] = {
    "written-sentiment": (1, _sentiment, 90),
    "written-ticket-triage": (1, _ticket, 60),
    "written-email-routing": (1, _route, 50),
    "written-intent": (1, _intent, 50),
    "written-translation": (1, _translate, 70),
    "written-factual": (1, _factual, 110),
    "written-proofreading": (1, _proofread, 40),
    "written-rewrite": (1, _rewrite, 40),
    "written-short-summary": (1, _summary, 30),
    "written-chit-chat": (1, _chat, 50),
    "written-arithmetic": (1, _arithmetic, 60),
    "written-document-lookup": (1, _document_lookup, 50),
    "written-code-synthesis": (2, _code_write, 110),
    "written-debugging": (2, _code_debug, 40),
    "written-sql": (2, _sql, 40),
    "written-migration-plan": (2, _migration, 40),
    "written-proof": (2, _proof, 40),
    "written-word-problem": (2, _word_problem, 70),
    "written-logic-puzzle": (2, _logic, 30),
    "written-contract-extraction": (2, _extraction, 40),
    "written-expert-analysis": (2, _analysis, 40),
    "written-diagnosis": (2, _diagnosis, 50),
    "written-system-design": (2, _design, 30),
    "written-short-code": (2, _short_code, 40),
    "written-document-review": (2, _document_review, 60),
}


def written_prompts(seed: int = 0) -> list[tuple[str, int, str]]:
    """``(text, tier, family)`` rows, deduplicated within each family, the same on every call."""
    rows: list[tuple[str, int, str]] = []
    for family, (tier, make, count) in WRITTEN_FAMILIES.items():
        rng = random.Random(f"{seed}:{family}")
        seen: set[str] = set()
        for _ in range(count * 4):
            text = make(rng)
            if text not in seen:
                seen.add(text)
                rows.append((text, tier, family))
            if len(seen) >= count:
                break
    return rows
