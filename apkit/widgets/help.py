"""The short French help panel at the top of each dashboard.

Each page shows one collapsed ``<details>`` panel titled « Aide », which
explains what the page is for and what to do when an action is refused. The longer
guides are in ``docs/fr/``; these texts quote the messages the pages show, so a
change of wording in a page should be carried here.
"""

from __future__ import annotations

import ipywidgets as widgets

from apkit.errors import NotFoundError

TITLE = "Aide"

WRONG_CODE = (
    "<li><b>« Code inconnu ou accès refusé. »</b> : le code est mal recopié, a été "
    "remplacé par un nouveau coupon, ou trop d'essais ont échoué. Vérifiez les "
    "lettres et les chiffres (les tirets et les majuscules ne comptent pas), "
    "attendez quelques minutes après plusieurs échecs, puis demandez un nouveau "
    "code à la coordination si le refus continue.</li>"
)
CAMPAIGN_CLOSED = (
    "<li><b>« La campagne … n'est pas ouverte »</b> : les inscriptions sont "
    "fermées (pas encore ouvertes, ou la répartition est en cours). Attendez "
    "l'ouverture ou la publication des groupes.</li>"
)

TEXTS: dict[str, str] = {
    "accueil": (
        "<p>Cette page présente l'établissement : ses barrettes, leurs classes, "
        "le nombre d'élèves et l'état des campagnes de chaque période. Elle ne "
        "montre aucun nom d'élève.</p>"
        "<p>Les liens en bas mènent aux autres pages : <b>Inscription des "
        "élèves</b>, <b>Corrections</b>, <b>Listes des groupes</b> et "
        "<b>Statistiques</b>. Chacune demande un code personnel.</p>"
        "<p>« La base ne contient encore aucune barrette » : la coordination n'a "
        "pas encore importé l'organisation (carnet 1).</p>"
    ),
    "inscription": (
        "<p>Sur cette page, tu choisis ton atelier d'AP pour chaque heure, puis tu "
        "vois ton groupe. Entre le code de ton coupon (ou ouvre le lien du "
        "coupon).</p>"
        "<ul><li>Inscription directe : clique sur « S'inscrire » sous l'atelier "
        "voulu ; « Changer pour celui-ci » te déplace tant que c'est ouvert.</li>"
        "<li>Vœux classés : choisis tes ateliers dans « Choix 1 », « Choix 2 »… "
        "puis clique sur « Enregistrer mes choix ».</li>"
        "<li>Quand les groupes sont publiés, la page indique pour chaque heure ton "
        "atelier, son enseignant et sa salle.</li></ul>"
        "<p><b>Si c'est refusé :</b></p><ul>"
        "<li><b>« Atelier complet »</b> : toutes les places sont prises ; choisis "
        "un autre atelier (le bouton est grisé quand il ne reste aucune "
        "place).</li>" + CAMPAIGN_CLOSED + WRONG_CODE + "</ul>"
    ),
    "corrections": (
        "<p>Cette page sert aux enseignants et à la coordination à corriger les "
        "groupes : chercher un élève, le déplacer, placer les élèves non inscrits, "
        "annuler une modification.</p>"
        "<ol><li>Choisissez la campagne.</li>"
        "<li>Tapez un nom ou un prénom dans « Élève », cliquez sur « Chercher », "
        "puis choisissez l'élève dans « Résultats ».</li>"
        "<li>Choisissez l'atelier dans « Vers », indiquez un motif si vous le "
        "souhaitez, puis cliquez sur « Déplacer ».</li>"
        "<li>Un déplacement se défait avec « Annuler » dans le journal des "
        "modifications.</li></ol>"
        "<p><b>Si c'est refusé :</b></p><ul>"
        "<li><b>« Atelier complet »</b> : l'atelier n'a plus de place. Choisissez "
        "un autre atelier ou demandez à la coordination, qui seule peut forcer "
        "au-delà des places.</li>"
        "<li><b>« … est réservé … ; … n'y a pas accès »</b> : l'atelier est "
        "réservé à d'autres classes.</li>"
        "<li><b>« … a été dépassée par une modification plus récente »</b> : "
        "annulez d'abord la modification plus récente.</li>" + WRONG_CODE + "</ul>"
    ),
    "listes": (
        "<p>Cette page montre les listes de vos groupes pour la période choisie et "
        "permet de les télécharger : le classeur (XLSX) et les feuilles "
        "d'émargement (PDF). La coordination peut choisir un enseignant ou "
        "« Tous les enseignants ».</p>"
        "<p><b>Si c'est refusé :</b></p><ul>"
        "<li><b>« Cette page est réservée aux enseignants. »</b> : c'est un code "
        "d'élève ; utilisez votre code d'enseignant.</li>"
        "<li>Aucun groupe affiché : la répartition de la période n'est pas encore "
        "faite, ou vous n'avez pas d'atelier cette période-là.</li>"
        + WRONG_CODE
        + "</ul>"
    ),
    "statistiques": (
        "<p>Cette page présente, pour l'administration, les chiffres d'une "
        "période : remplissage des ateliers, premiers vœux face aux places, "
        "places et inscrits par barrette, élèves non inscrits par classe, "
        "satisfaction des vœux et parcours d'un élève. Les filtres « Barrette » et "
        "« Heure » restreignent les graphiques ; « Préparer le classeur » crée le "
        "classeur de la période à télécharger.</p>"
        "<p><b>Si c'est refusé :</b></p><ul>"
        "<li><b>« Cette page est réservée à l'administration et à la "
        "coordination. »</b> : seuls le code de l'administration et celui de la "
        "coordination ouvrent cette page.</li>" + WRONG_CODE + "</ul>"
    ),
}


def help_text(page_name: str) -> str:
    """Return the French help of a dashboard as HTML.

    Raises
    ------
    NotFoundError
        If ``page_name`` is not one of the dashboards of :data:`TEXTS`.
    """
    try:
        return TEXTS[page_name]
    except KeyError:
        known = ", ".join(sorted(TEXTS))
        raise NotFoundError(
            f"Aide introuvable pour la page « {page_name} » ; pages connues : {known}"
        ) from None


def help_panel(page_name: str) -> widgets.HTML:
    """Return the collapsed « Aide » panel of a dashboard.

    The panel is an HTML ``<details>`` element, which the browser opens and
    closes without a round trip to the kernel, so it also works while a callback
    runs.

    Raises
    ------
    NotFoundError
        If ``page_name`` is not one of the dashboards of :data:`TEXTS`.
    """
    panel = widgets.HTML(
        f'<details class="apkit-help-details"><summary><b>{TITLE}</b></summary>'
        f"{help_text(page_name)}</details>"
    )
    panel.add_class("apkit-help")
    return panel
