"""The eval set's composed scenes and real-footage variants (see ``docs/eval.md``).

Two parts: ``CI`` (what the regression gate in ``tests/test_eval_gate.py`` replays: every kind of
case once, short) and ``FULL`` (the CI part and everything else: at least 50 visits and 30
minutes without any visit).  Frame sizes are 640x360 unless said; people walk at 1-2 of their
heights per second, pets faster.  Nothing here is tuned to Ronda's output: the cases come from
the issue's list (day, dusk, infrared night, rain, pets close to the lens, crowds, small distant
people, carrying, partly hidden, still things beside moving ones, people standing still).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.evalset.render import Actor, Nuisance, Prop, Scene

W, H = 640, 360


def _walk(t0: float, t1: float, x0: float, x1: float, y: float) -> list[tuple[float, float, float]]:
    return [(t0, x0, y), (t1, x1, y)]


# -- still things beside moving ones (the cushion and stone) ---------------------------
def statue_garden() -> Scene:
    """A stone statue of a person and a stone dog by a gravel path; two people walk past them."""
    return Scene(
        "still-statue-garden",
        "garden",
        24.0,
        props=[Prop("person_woman", 150, (520, 250)), Prop("dog_spaniel", 60, (430, 255))],
        actors=[
            Actor("room_0", 150, _walk(1.0, 9.0, -50, 700, 215)),
            Actor("person_beach_b", 140, _walk(12.0, 21.0, 700, -50, 220)),
        ],
        notes="statue and stone dog never move; people pass 60-100 px from them",
    )


def coat_and_cat_room() -> Scene:
    """A coat (a jacket's upper part) on the wall and a bronze cat figure on the floor; a cat
    plays beside the figure, then a person crosses."""
    return Scene(
        "still-coat-room",
        "room",
        22.0,
        props=[
            Prop("person_beach_a", 110, (90, 150), tint="none", crop=0.55),
            Prop("cat_tabby", 70, (300, 330), tint="bronze"),
        ],
        actors=[
            Actor(
                "cat_kitten",
                60,
                [(1.0, 380, 335), (4.0, 470, 340), (7.0, 390, 330), (9.0, 700, 335)],
            ),
            Actor("room_2", 200, _walk(11.0, 19.0, 700, -60, 340), mirror=True),
        ],
        notes="coat on a hook and bronze cat never move; a kitten plays 80-170 px from the figure",
    )


def stone_by_footpath() -> Scene:
    """A small stone dog (30 px) at the lawn's edge; people walk along the path above it."""
    return Scene(
        "still-stone-footpath",
        "garden",
        24.0,
        props=[Prop("dog_collie", 28, (330, 270))],
        actors=[
            Actor("person_beach_a", 120, _walk(0.5, 8.0, -40, 680, 250)),
            Actor("room_4", 130, _walk(9.0, 16.0, 680, -40, 245), mirror=True),
            Actor("person_woman", 125, _walk(16.5, 23.5, -40, 680, 252)),
        ],
        notes="the stone dog is 28 px tall, 20 px below the walkers' feet",
    )


# -- people standing still ---------------------------------------------------------------------
def person_in_view_at_start() -> Scene:
    """A person already standing at the start (shifting weight), then walking off."""
    return Scene(
        "standing-at-start",
        "room",
        16.0,
        actors=[
            Actor("room_1", 210, [(0.0, 330, 345), (9.0, 330, 345), (14.0, 700, 345)], sway=3.0)
        ],
        notes="in view from frame 0; sways 3 px for 9 s, then walks out",
    )


def walks_up_and_stands() -> Scene:
    """A person walks to the door and waits there for 12 s, at dusk."""
    return Scene(
        "walks-up-stands-dusk",
        "room",
        22.0,
        light="dusk",
        actors=[
            Actor(
                "room_3",
                210,
                [(1.0, -50, 345), (4.0, 250, 345), (16.0, 252, 345), (20.0, -60, 345)],
                sway=1.5,
            )
        ],
    )


# -- the classic cases -------------------------------------------------------------------------
def ir_night_visits() -> Scene:
    """Infrared night: a person, then a cat crossing the room."""
    return Scene(
        "ir-night-person-cat",
        "room",
        20.0,
        light="ir",
        actors=[
            Actor("room_5", 220, _walk(0.5, 8.0, -60, 700, 350)),
            Actor("cat_kitten", 70, _walk(10.0, 17.0, 700, -80, 345), mirror=True),
        ],
    )


def rain_garden() -> Scene:
    return Scene(
        "rain-garden-person-dog",
        "garden",
        20.0,
        rain=True,
        actors=[
            Actor("person_woman", 150, _walk(0.5, 8.0, 700, -50, 250)),
            Actor("dog_collie", 60, _walk(10.0, 14.0, -60, 700, 300)),
        ],
    )


def pets_close_to_lens() -> Scene:
    return Scene(
        "pets-close-to-lens",
        "room",
        16.0,
        actors=[
            Actor("cat_chelsea", 260, _walk(0.5, 5.0, -250, 900, 380)),
            Actor("dog_spaniel", 300, _walk(8.0, 12.0, 900, -250, 380), mirror=True),
        ],
        notes="each pet fills most of the frame height; both cut by the bottom edge",
    )


def crowd() -> Scene:
    """Four people crossing together, overlapping, in both directions."""
    return Scene(
        "crowd-four",
        "room",
        14.0,
        actors=[
            Actor("room_0", 200, _walk(0.5, 9.0, -60, 700, 345)),
            Actor("room_2", 210, _walk(1.0, 9.5, 700, -60, 350), mirror=True),
            Actor("room_4", 190, _walk(2.0, 11.0, -60, 700, 330)),
            Actor("room_5", 205, _walk(2.5, 11.5, 700, -60, 340), mirror=True),
        ],
    )


def small_people_parking(size: tuple[int, int] = (W, H), height: int = 40) -> Scene:
    """Small distant people crossing a car park one at a time."""
    width, frame_height = size
    y = 0.55 * frame_height
    return Scene(
        f"small-people-{width}x{frame_height}-{height}px",
        "parking",
        30.0,
        size=size,
        actors=[
            Actor("room_0", height, _walk(0.5, 9.5, -20, width + 20, y)),
            Actor(
                "person_beach_b", height, _walk(10.5, 19.5, width + 20, -20, y + 0.1 * frame_height)
            ),
            Actor("room_3", height, _walk(20.5, 29.5, -20, width + 20, y + 0.2 * frame_height)),
        ],
        notes=f"people {height} px tall in a {width}x{frame_height} frame",
    )


def carrying_and_hidden() -> Scene:
    """A person carrying a box; one walking behind a hedge (half hidden)."""
    return Scene(
        "carrying-partly-hidden",
        "garden",
        18.0,
        occluders=[(0, 270, 640, 330)],
        actors=[
            Actor("person_beach_a", 150, _walk(0.5, 7.5, -50, 700, 255), carry=True),
            Actor("room_1", 170, _walk(9.0, 17.0, 700, -60, 330), mirror=True),
        ],
        notes="second walker: legs behind a hedge (the grey band), upper body visible",
    )


def dusk_dog_and_person() -> Scene:
    return Scene(
        "dusk-garden-dog-person",
        "garden",
        18.0,
        light="dusk",
        actors=[
            Actor("dog_spaniel", 90, _walk(0.5, 5.0, 700, -80, 320), mirror=True),
            Actor("room_3", 160, _walk(7.0, 16.0, -50, 700, 250)),
        ],
    )


def ir_cat_sofa() -> Scene:
    """Infrared night: the tabby walks slowly across, stops, walks on."""
    return Scene(
        "ir-night-cat-stops",
        "room",
        18.0,
        light="ir",
        actors=[
            Actor(
                "cat_tabby",
                90,
                [(0.5, 700, 340), (5.0, 400, 340), (9.0, 398, 340), (14.0, -80, 340)],
                sway=1.0,
            )
        ],
    )


# -- nothing to alert: the classic nuisances ---------------------------------------------------
def nuisance(
    name: str, background: str, duration: float, kinds: list[str], light: str = "day", rain=False
) -> Scene:
    step = duration / (len(kinds) + 1)
    events = [Nuisance(kind, (i + 0.5) * step, (i + 1.5) * step) for i, kind in enumerate(kinds)]
    return Scene(name, background, duration, nuisances=events, light=light, rain=rain)


def nuisances_ci() -> list[Scene]:
    return [nuisance("quiet-room-lights-shadow", "room", 30.0, ["lights", "shadow", "flicker"])]


def nuisances_full() -> list[Scene]:
    """About 31 minutes with nobody in view."""
    return [
        nuisance("quiet-garden-day", "garden", 180.0, ["cloud", "foliage", "shadow", "foliage"]),
        nuisance("quiet-garden-rain", "garden", 180.0, ["foliage", "cloud"], rain=True),
        nuisance(
            "quiet-garden-dusk", "garden", 150.0, ["headlights", "foliage", "headlights"], "dusk"
        ),
        nuisance(
            "quiet-garden-ir",
            "garden",
            180.0,
            ["headlights", "noise", "headlights", "foliage"],
            "ir",
        ),
        nuisance("quiet-room-day", "room", 180.0, ["lights", "cloud", "flicker", "shadow"]),
        nuisance("quiet-room-ir", "room", 180.0, ["noise", "lights", "noise"], "ir"),
        nuisance("quiet-room-dusk", "room", 150.0, ["headlights", "lights", "shadow"], "dusk"),
        nuisance("quiet-parking-day", "parking", 180.0, ["cloud", "shadow", "foliage"]),
        nuisance(
            "quiet-parking-night", "parking", 180.0, ["headlights", "headlights", "noise"], "ir"
        ),
        nuisance("quiet-road-rain", "road", 180.0, ["cloud", "shadow"], rain=True),
        Scene(
            "quiet-statues-garden",
            "garden",
            120.0,
            props=[Prop("person_woman", 150, (520, 250)), Prop("dog_spaniel", 60, (430, 255))],
            nuisances=[Nuisance("foliage", 0.0, 120.0), Nuisance("shadow", 40.0, 70.0)],
        ),
    ]


@dataclass(frozen=True)
class Variant:
    """A real clip of ``tests/footage`` re-rendered under ``light`` (and rain): its visits are
    the original's labels."""

    clip: str
    light: str
    rain: bool = False

    @property
    def name(self) -> str:
        stem = self.clip.split("/")[-1].rsplit(".", 1)[0]
        return f"{stem}-{self.light}{'-rain' if self.rain else ''}"


def ci_scenes() -> list[Scene]:
    return [
        statue_garden(),
        coat_and_cat_room(),
        person_in_view_at_start(),
        ir_night_visits(),
        *nuisances_ci(),
    ]


def full_scenes() -> list[Scene]:
    return [
        *ci_scenes(),
        stone_by_footpath(),
        walks_up_and_stands(),
        rain_garden(),
        pets_close_to_lens(),
        crowd(),
        small_people_parking(),
        carrying_and_hidden(),
        dusk_dog_and_person(),
        ir_cat_sofa(),
        *nuisances_full(),
    ]


LAWN = "real/opencv_vtest-lawn.mp4"
"""Two people walking in at the edge of a real lawn, one of them half out of view for a while."""


def ci_variants() -> list[Variant]:
    return [Variant(LAWN, "ir")]


def full_variants() -> list[Variant]:
    one_by_one = "clips/intel_one-by-one-person-detection.mp4"
    dog = "clips/opencvcourse_dog.mp4"
    return [
        *ci_variants(),
        Variant(LAWN, "dusk"),
        Variant(one_by_one, "dusk"),
        Variant(one_by_one, "ir"),
        Variant(one_by_one, "day", rain=True),
        Variant(dog, "ir"),
        Variant(dog, "dusk", rain=True),
    ]
