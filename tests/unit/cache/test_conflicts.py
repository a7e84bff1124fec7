"""The structured checks refuse a near miss whatever its cosine, name what differs, and let paraphrases through;
the same-text rule forgives typos and courtesy words but never one real word for another."""

from __future__ import annotations

import pytest

from deployments.cache.conflicts import CHECKS, conflict
from deployments.cache.same_text import same_question

NEAR_MISSES = [
    ("How much storage does the 64 GB plan include?", "How much storage does the 128 GB plan include?", "number"),
    ("What does the --force flag of git push do?", "What does the --dry-run flag of git push do?", "identifier"),
    ("Why does my job fail with OOMKilled?", "Why does my job fail with CrashLoopBackOff?", "identifier"),
    ("Which invoices can be paid by card?", "Which invoices cannot be paid by card?", "negation"),
    ("How do I move a ticket from Jira to Linear?", "How do I move a ticket from Linear to Jira?", "direction"),
    ("Which region has the highest egress cost?", "Which region has the lowest egress cost?", "opposite"),
    ("Is the helpdesk open on Saturday?", "Is the helpdesk open on Sunday?", "date"),
    ("What was churn last quarter?", "What was churn this quarter?", "date"),
    ("When is payroll run in May?", "When is payroll run in June?", "date"),
    ("What is the upload limit in MB?", "What is the upload limit in GB?", "unit"),
    ("How do I see my open pull requests?", "How do I see every open pull request?", "scope"),
    ("Can a contractor access the wiki?", "Can an intern access the wiki?", "role"),
    ("How do I parse JSON in Kotlin?", "How do I parse JSON in Swift?", "identifier"),
    ("How do I invite a user to Confluence?", "How do I invite a user to Notion?", "entity"),
    ("Who is on call this weekend?", "Who is on call next weekend?", "date"),
    ("When does the 9 am shift start?", "When does the 9 pm shift start?", "date"),
    ("Which electives run in the fall semester?", "Which electives run in the spring semester?", "date"),
    ("Can a team lead approve their own timesheet?", "Can a team member approve their own timesheet?", "role"),
    ("Can a tenant request a repair online?", "Can a landlord request a repair online?", "role"),
    ("Can I cancel a flight booked on a refundable fare?", "Can I cancel a flight booked on a non-refundable fare?",
     "negation"),
    ("How do I create a storage bucket in the console?", "How do I delete a storage bucket in the console?",
     "opposite"),
    ("Which roles can grant access to the finance folder?", "Which roles can revoke access to the finance folder?",
     "opposite"),
    ("What happens if the tenant renews the lease by the deadline?",
     "What happens if the tenant fails to renew the lease by the deadline?", "negation"),
    ("Which gate is closest to the baggage area?", "Which gate is farthest from the baggage area?", "opposite"),
    ("Which plan has the fewest seat limits?", "Which plan has the most seat limits?", "opposite"),
    ("Who books the courts, the team captain?", "Who books the courts, the club secretary?", "role"),
    ("If Alex blocks Jordan, can Jordan still send Alex a message?",
     "If Alex blocks Jordan, can Alex still send Jordan a message?", "direction"),
    ("How many points does a player rated 1500 gain for beating a player rated 1800?",
     "How many points does a player rated 1800 gain for beating a player rated 1500?", "direction"),
    ("How many hours ahead of Rotterdam is Singapore?", "How many hours ahead of Singapore is Rotterdam?", "direction"),
    ("Is the resident's report reviewed by the attending pathologist?",
     "Is the attending pathologist's report reviewed by the resident?", "direction"),
    ("List patients whose A1c rose since their previous draw.", "List patients whose A1c fell since their previous draw.",
     "opposite"),
    ("Which EC2 instances are overprovisioned?", "Which EC2 instances are underprovisioned?", "opposite"),
    ("Our turbine is rated 3 megawatts. How many homes can it supply?",
     "Our turbine is rated 3 kilowatts. How many homes can it supply?", "unit"),
    ("Which open-source license is the most permissive?", "Which open-source license is the most restrictive?",
     "opposite"),
    ("What are a maintainer's duties under the DCO?", "What are a contributor's duties under the DCO?", "role"),
    ("How do I delete all keys in the current Redis database?", "How do I delete all keys in every Redis database?",
     "scope"),
    ("The customer wants to swap their SUV for a compact. Do we refund the difference?",
     "The customer wants to swap their compact for an SUV. Do we refund the difference?", "direction"),
]

PARAPHRASES = [
    ("How much storage does the 64 GB plan include?", "What amount of storage comes with the 64 GB plan?"),
    ("How do I scale the deployment to five replicas?", "How can I scale the deployment to 5 replicas?"),
    ("Which invoices can be paid by card?", "Which invoices is it possible to pay by card?"),
    ("How do I move a ticket from Jira to Linear?", "What's the way to move a Jira ticket over to Linear?"),
    ("How do I renew the TLS certificate on the load balancer?",
     "How do I renew the Transport Layer Security certificate on the load balancer?"),
    ("Hi! How do I reset my SSO password? Thanks.", "How do I reset my SSO password?"),
    ("Where do I find the quarterly report?", "¿Dónde encuentro el informe trimestral?"),
    ("May I ask where the quarterly report is?", "Where is the quarterly report?"),
    ("Good morning! What is the SLA for severity 2 tickets?", "What is the SLA for severity 2 tickets?"),
    ("Am I allowed to expense my home internet?", "Can I claim my home internet as an expense?"),
    ("Which employees qualify for the annual bonus?", "Which staff members are eligible for the yearly bonus?"),
    ("Is there a cap on how many guests I can bring?", "Is there a limit on how many visitors I can bring?"),
    ("How do I configure logging in Spring Boot?", "how do i configure logging in spring boot"),
    ("What is the current APR on personal loans?", "What is the current annual percentage rate on personal loans?"),
    ("How should we pin module versions to avoid surprises?", "How should we lock module versions to prevent surprises?"),
    ("Which suppliers deliver on short notice?", "Which vendors deliver on short notice?"),
    ("How do we shortlist candidates fairly?", "How do we shortlist applicants fairly?"),
    ("How do I build the app for iOS and Android?", "How do I build the app for Android and iOS?"),
    ("How do I move stock to the Reno warehouse from the Sacramento warehouse?",
     "How do I move stock from the Sacramento warehouse to the Reno warehouse?"),
    ("Using Terraform, how can I import a bucket?", "How can I import a bucket using Terraform?"),
    ("In heavy weather, should the master reduce speed to protect the deck cargo?",
     "To protect the deck cargo, should the master reduce speed in heavy weather?"),
    ("How is the kWh usage on my bill calculated?", "How is the kilowatt-hour usage on my bill calculated?"),
    ("What should the agent check for a customer with a foreign driver's license?",
     "What should the agent check for a customer with a foriegn drivers license?"),
    ("Which IAM role lets a user view billing reports without changing billing settings?",
     "Name the IAM role that lets a user view billing reports without changing billing settings."),
    ("Our test ran for only three days. Are the results reliable?",
     "Notre test n'a duré que trois jours. Les résultats sont-ils fiables ?"),
    ("Why is the customer's stream buffering?", "Why is the subscriber's stream buffering?"),
]


@pytest.mark.parametrize(("a", "b", "reason"), NEAR_MISSES)
def test_a_near_miss_is_refused_naming_what_differs(a: str, b: str, reason: str) -> None:
    assert reason in CHECKS
    assert conflict(b, a) == reason
    assert conflict(a, b) == reason  # either side may be the cached one


@pytest.mark.parametrize(("a", "b"), PARAPHRASES)
def test_a_paraphrase_passes(a: str, b: str) -> None:
    assert conflict(b, a) is None


def test_typos_and_courtesy_make_the_same_question() -> None:
    assert same_question("how do i configure a static ip adress on ubuntu", "How do I configure a static IP address on Ubuntu?")
    assert same_question("Hello, quick question: where is the expnese form? Thanks!", "Where is the expense form?")
    assert same_question("Where is the expense form?", "Where is the expense form?")


def test_one_real_word_for_another_is_not_a_typo() -> None:
    assert not same_question("How do I increase the quota?", "How do I decrease the quota?")
    assert not same_question("How do I import contacts?", "How do I export contacts?")
    assert not same_question("Where is the expense form?", "Where is the expense report form?")  # a word added
    assert not same_question("Why is build 4512 red?", "Why is build 4521 red?")  # numbers are never typos


def test_an_acronym_spelled_out_on_the_other_side_is_the_same_question() -> None:
    assert same_question("What's our SLA for severity 2 incidents?",
                         "What's our service level agreement for severity 2 incidents?")
    assert same_question("How do I submit a purchase order for a laptop?", "How do I submit a PO for a laptop?")
    # Only words written in capitals are acronyms, and the words must spell it where it stands.
    assert not same_question("Which orders went to an approved vendor?", "Which orders went to a non approved vendor?")
    assert not same_question("What's our SLA for severity 2 incidents?", "What's our support level for severity 2 incidents?")


class _FixedVerifier:
    """A verifier that scores every candidate 0.7: between the balanced threshold and the strict one."""

    threshold = 0.83
    min_cosine = 0.5

    def score(self, query: str, query_vec: object, candidates: list[str], vecs: object) -> list[float]:
        return [0.7] * len(candidates)


def test_balanced_serves_what_strict_refuses_and_the_checks_hold_for_both() -> None:
    import numpy as np

    from deployments.cache.decision import Choice, Decision, Refusal

    decision = Decision("verifier", verifier=_FixedVerifier())  # type: ignore[arg-type]
    vector = np.ones(4, dtype=np.float32)
    paraphrase = [("e1", "How can I rotate the API key?", vector, 0.9)]
    assert decision.decide("How do I rotate the API key?", vector, paraphrase, "strict") == Refusal("verifier")
    assert isinstance(decision.decide("How do I rotate the API key?", vector, paraphrase, "balanced"), Choice)
    near_miss = [("e2", "How do I rotate the API key for 30 days?", vector, 0.95)]
    assert decision.decide("How do I rotate the API key for 90 days?", vector, near_miss, "balanced") == Refusal("number")
