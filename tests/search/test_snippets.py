"""Snippets a rep reads: plain text (no Markdown), the passage holding the most of the query's words,
never the boilerplate paragraph most documents of a kind end with."""
import pytest

from app import search

ABOUT = ("About Lumenfold: operations teams in healthcare, financial services, retail and manufacturing "
         "run on the Lumenfold platform.")


def snippets(client, query: str) -> dict[str, str]:
    body = client.get("/api/v1/search", query_string={"q": query}).get_json()
    return {r["title"]: r["snippet"] for r in body["results"]}


def test_markdown_is_shown_as_the_text_a_reader_sees(client, login_as, make_asset):
    make_asset("Pricing guidance", kind="messaging",
               body="## Pricing\n\n**List price logic**: per team, not per [user](https://example.com/x).\n\n"
                    "- Discounts above 15 % need approval")
    login_as("rep")
    shown = snippets(client, "price logic")["Pricing guidance"]
    assert '<mark class="hit">price</mark> <mark class="hit">logic</mark>: per team, not per user.' in shown
    assert "**" not in shown and "##" not in shown and "https://" not in shown and "](" not in shown


def test_the_passage_with_most_of_the_words_wins_over_the_first_hit(client, login_as, make_asset):
    filler = " ".join(["The rollout plan covers training, data migration and go-live support."] * 8)
    make_asset("Renewal playbook", body=f"Pricing is reviewed yearly. {filler} "
                                        "At renewal, pricing and discount bands are agreed with procurement.")
    login_as("rep")
    shown = snippets(client, "pricing discount")["Renewal playbook"]
    assert '<mark class="hit">discount</mark>' in shown and '<mark class="hit">pricing</mark>' in shown
    assert "reviewed yearly" not in shown


@pytest.mark.parametrize("learn", ["rebuild", "refresh_notes"])  # a reindex, or after an import
def test_boilerplate_of_most_documents_of_a_kind_never_makes_the_snippet(app, client, login_as, make_asset, learn):
    for n, topic in enumerate(["Bed capacity for hospitals in healthcare networks", "Store shift handovers",
                               "Plant downtime alerts", "Audit trails for banks", "Fleet dispatch"]):
        make_asset(f"Brochure {n}", kind="brochure", body=f"{topic}, explained in two pages.\n\n{ABOUT}")
    make_asset("Healthcare talk track", kind="messaging", body=f"Open with the patient story.\n\n{ABOUT}")
    getattr(search, learn)()
    login_as("rep")
    shown = snippets(client, "healthcare")
    assert "Bed capacity for hospitals in" in shown["Brochure 0"]
    assert {f"Brochure {n}" for n in range(5)} <= set(shown)  # each holds "healthcare", if only in the boilerplate
    assert all("About Lumenfold" not in shown[f"Brochure {n}"] for n in range(5))
    assert shown["Brochure 2"].startswith("Plant downtime alerts")
    # one messaging asset is not "most documents of a kind": its own paragraph stays
    assert "About Lumenfold" in shown["Healthcare talk track"]
