"""A passage as players bring them: twelve paragraphs, about 3,300 characters, written
in a word processor (curly quotes, dashes, an ellipsis, non-breaking spaces, a soft
hyphen, an accent typed as a combining mark). Written for these tests."""

from __future__ import annotations

PARAGRAPHS = [
    "The library opened at nine, but Mara was always there by half past eight, sitting "
    "on the cold stone steps with a thermos of tea and a notebook that had seen better "
    "days. She liked the quiet before the doors opened \u2014 the street sweepers, the "
    "pigeons, the first buses sighing at the corner.",

    "\u201cYou\u2019re early again,\u201d said the caretaker, a tall man named Oskar who "
    "had worked there for twenty\u2011two years. He said it every morning, and every "
    "morning she answered the same way: \u201cSomeone has to keep the pigeons "
    "company.\u201d",

    "Inside, the reading room smelled of floor polish and old paper. Mara chose the "
    "table by the third window, where the light arrived at about ten o\u2019clock and "
    "stayed until two. She spread out her things in the same order each day: pencil, "
    "eraser, notebook, the book she was reading, and a second book in case the first "
    "one disappointed her.",

    "That autumn she was reading about the history of keyboards. It surprised her how "
    "much of what her fingers did each day had been decided in the 1870s \u2013 1880s by "
    "people trying to stop the metal arms of a typewriter from jamming. The letters "
    "were placed to keep common pairs apart, not to make typing fast.",

    "\u201cSo we are all typing around a problem that no longer exists,\u201d she wrote "
    "in her notebook, and then underlined it twice. Later she crossed out \u201cproblem\u201d "
    "and wrote \u201cghost\u201d above it\u2026 then crossed that out too, because it "
    "sounded too dramatic for a Tuesday.",

    "Oskar stopped by her table around eleven with the trolley of returned books. He "
    "looked at the diagram of the keyboard she had drawn \u2014 four rows of little "
    "squares, each with a letter in it \u2014 and tapped the middle row. \u201cHome "
    "row,\u201d he said. \u201cMy mother taught typing at the night school.\u201d",

    "It turned out that his mother had taught hundreds of people, mostly adults who "
    "wanted better jobs: clerks, nurses, a retired sailor who wrote his memoirs one "
    "finger at a time until she made him use all ten. \u201cShe used to say speed comes "
    "last,\u201d Oskar said. \u201cFirst rhythm, then accuracy, then speed.\u201d",

    "Mara tried it that evening at home. She put on a metronome at a slow tempo and "
    "typed one letter per click, eyes on the screen, never on her hands. It felt "
    "ridiculous for ten minutes and then, quite suddenly, it felt like music. Her "
    "mistakes came in clusters, always when she rushed.",

    "Over the following weeks she practised with whatever she was reading: recipes, "
    "letters from her grandmother, a chapter about a caf\u0065\u0301 in Lisbon where "
    "poets had argued about commas. Long passages were the best. Anyone can sprint "
    "through a sentence; a page asks for patience.",

    "By December her speed had doubled, but what pleased her more was that she no "
    "longer dreaded long texts. She could settle into a passage the way a swimmer "
    "settles into a lake \u2014 a little cold at first, then steady, breathing on every "
    "third stroke.",

    "On the last day before the holidays she brought Oskar a present: a small card, "
    "typed rather than handwritten, with not a single mistake in it. It said: "
    "\u201cFor Oskar\u2019s mother, who taught a sailor to use all ten fingers, and "
    "for Oskar, who told me about her.\u201d",

    "He read it twice, folded it carefully and put it in the pocket of his jacket. "
    "\u201cShe would have checked the margins,\u201d he said, smiling. Then he unlocked "
    "the doors, and the morning came in with the pigeons \u2014 same as always, "
    "and not quite the same at all.",
]

# Pasted the way a word processor copies it: paragraphs a blank line apart, some
# non-breaking and thin spaces, a soft hyphen, a stray zero width space.
TYPOGRAPHIC = "\r\n\r\n".join(PARAGRAPHS).replace(
    "nine, but", "nine,\u00a0but").replace("ten o", "ten\u202fo").replace(
    "metronome", "metro\u00adnome").replace("Lisbon", "Lis\u200bbon")
