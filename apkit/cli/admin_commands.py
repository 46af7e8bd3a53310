"""Administration commands: backup, restore, data protection, publication, e-mail.

``apkit backup FILE`` and ``apkit restore FILE`` save and restore the whole
database; ``apkit export-student ID --output FILE`` writes what apkit stores on
one student as JSON; ``apkit purge-year 2025-2026`` shows what a purge would
delete and deletes it with ``--yes``; ``apkit publish --period P1 --block A``
writes a campaign's files (``--update N`` brings publication N up to date after
corrections); ``apkit send --publication N`` mails them, or writes ``.eml`` files
with ``--dry-run DIR``.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from apkit.backup import backup, restore
from apkit.campaigns import find_campaign
from apkit.cli import emit
from apkit.errors import ApkitError
from apkit.french import plural
from apkit.mailing import SmtpSettings, send_publication
from apkit.privacy import export_student, purge_school_year
from apkit.publication import publish, update_publication
from apkit.store import Store

Handler = Callable[[argparse.Namespace], int]

PURGE_LABELS = {
    "periods": "périodes",
    "campaigns": "campagnes",
    "activities": "ateliers",
    "enrolments": "inscriptions",
    "preferences": "choix",
    "audit_entries": "entrées du journal",
    "publications": "publications",
    "messages": "messages",
    "students": "élèves partis",
    "access_codes": "codes d'accès",
    "login_failures": "échecs de connexion",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the backup, data-protection, publication and e-mail commands."""
    parser = _command(subparsers, "backup", _backup, "sauvegarder toute la base")
    parser.add_argument(
        "file", metavar="FICHIER", help="fichier de sauvegarde à écrire"
    )

    parser = _command(
        subparsers, "restore", _restore, "remplacer toute la base par une sauvegarde"
    )
    parser.add_argument(
        "file", metavar="FICHIER", help="fichier écrit par apkit backup"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="restaurer même si une campagne est ouverte aux inscriptions",
    )

    parser = _command(
        subparsers,
        "export-student",
        _export_student,
        "écrire en JSON tout ce que la base contient sur un élève",
    )
    parser.add_argument("student", metavar="ID", help="identifiant de l'élève (STU001)")
    parser.add_argument(
        "--output", required=True, metavar="FICHIER", help="fichier .json à écrire"
    )

    _register_purge(subparsers)
    _register_publish(subparsers)
    _register_send(subparsers)


def _register_purge(subparsers: argparse._SubParsersAction) -> None:
    parser = _command(
        subparsers,
        "purge-year",
        _purge_year,
        "supprimer une année scolaire terminée et les élèves partis",
    )
    parser.add_argument("year", metavar="ANNÉE", help="année scolaire, ex. 2025-2026")
    parser.add_argument(
        "--yes",
        action="store_true",
        help="supprimer vraiment (sans cette option, seul le décompte est affiché)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="supprimer même si la dernière période n'est pas finie",
    )
    _actor_option(parser)


def _register_publish(subparsers: argparse._SubParsersAction) -> None:
    parser = _command(
        subparsers,
        "publish",
        _publish,
        "publier les résultats d'une campagne (fiches, listes, classeur)",
    )
    parser.add_argument("--period", metavar="CODE", help="période, ex. P1")
    parser.add_argument("--block", metavar="NOM", help="barrette, ex. A")
    parser.add_argument(
        "--update",
        type=int,
        metavar="N",
        help="mettre à jour la publication N après des corrections",
    )
    parser.add_argument(
        "--output",
        default="publications",
        metavar="DOSSIER",
        help="dossier où créer le dossier daté (par défaut publications)",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help="adresse publique du serveur, imprimée sur les fiches des élèves",
    )
    parser.add_argument(
        "--new-codes",
        action="store_true",
        help="créer de nouveaux codes d'accès et les imprimer sur les fiches "
        "(les anciens codes des élèves sont révoqués)",
    )
    _actor_option(parser)


def _register_send(subparsers: argparse._SubParsersAction) -> None:
    parser = _command(subparsers, "send", _send, "envoyer une publication par courriel")
    parser.add_argument(
        "--publication", required=True, type=int, metavar="N", help="n° de publication"
    )
    parser.add_argument(
        "--dry-run",
        metavar="DOSSIER",
        help="écrire les messages en fichiers .eml dans ce dossier sans les envoyer",
    )
    parser.add_argument(
        "--retry", action="store_true", help="renvoyer les messages en échec"
    )
    parser.add_argument(
        "--smtp",
        metavar="URL",
        help="serveur SMTP, ex. smtp://utilisateur:motdepasse@hote:587?starttls=1 "
        "(par défaut APKIT_SMTP_URL)",
    )
    parser.add_argument(
        "--sender", metavar="ADRESSE", help="adresse d'expéditeur des messages"
    )


def _command(
    subparsers: argparse._SubParsersAction, name: str, handler: Handler, summary: str
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=summary, description=summary)
    # SUPPRESS keeps the main parser's --json when the flag is not repeated here.
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="écrire le résultat en JSON (pour un script)",
    )
    parser.set_defaults(handler=handler)
    return parser


def _actor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor",
        metavar="NOM",
        help="auteur noté dans le journal (par défaut l'utilisateur du système)",
    )


def _actor(args: argparse.Namespace) -> str:
    return args.actor or getpass.getuser()


def _with_store(args: argparse.Namespace, work: Callable[[Store], int]) -> int:
    store = Store(args.database)
    try:
        return work(store)
    finally:
        store.dispose()


# Handlers


def _backup(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        info = backup(store, args.file)
        result = {"file": str(info.path), "size": info.size, "revision": info.revision}
        emit(
            args,
            result,
            f"Sauvegarde écrite : {info.path} ({plural(info.size, 'octet')})",
        )
        return 0

    return _with_store(args, work)


def _restore(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        info = restore(store, args.file, force=args.force)
        result = {"file": str(info.path), "revision": info.revision}
        emit(args, result, f"Base restaurée depuis {info.path}")
        return 0

    return _with_store(args, work)


def _export_student(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        exported = export_student(store, args.student)
        target = Path(args.output)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(exported, ensure_ascii=False, indent=2)
        target.write_text(text + "\n", encoding="utf-8")
        result = {"file": str(target), "student": args.student}
        emit(args, result, f"Données de l'élève {args.student} écrites dans {target}")
        return 0

    return _with_store(args, work)


def _purge_year(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        report = purge_school_year(
            store, args.year, actor=_actor(args), force=args.force, preview=not args.yes
        )
        counts = asdict(report)
        lines = [f"  {PURGE_LABELS[key]} : {counts[key]}" for key in PURGE_LABELS]
        if args.yes:
            heading = f"Année {args.year} supprimée :"
        else:
            heading = (
                f"Année {args.year} : rien n'a été supprimé. Relancez avec --yes "
                "pour supprimer :"
            )
        emit(args, counts | {"deleted": args.yes}, "\n".join([heading, *lines]))
        return 0

    return _with_store(args, work)


def _publish(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        if args.update is not None:
            publication = update_publication(
                store, args.update, actor=_actor(args), base_url=args.base_url
            )
            verb = "mise à jour"
        else:
            with store.read() as session:
                campaign_id = find_campaign(session, args.period, args.block).id
            publication = publish(
                store,
                campaign_id,
                args.output,
                actor=_actor(args),
                base_url=args.base_url,
                new_codes=args.new_codes,
            )
            verb = "écrite"
        result = {
            "publication": publication.id,
            "folder": publication.folder,
            "files": publication.files,
        }
        text = (
            f"Publication n° {publication.id} {verb} dans {publication.folder} "
            f"({plural(len(publication.files), 'fichier')})"
        )
        emit(args, result, text)
        return 0

    if args.update is None and not (args.period and args.block):
        raise ApkitError(
            "Campagne manquante : indiquez --period et --block, ou --update N pour "
            "mettre à jour une publication"
        )
    return _with_store(args, work)


def _send(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        settings = (
            SmtpSettings.from_url(args.smtp, sender=args.sender)
            if args.smtp
            else SmtpSettings.from_environment()
        )
        dry_run = Path(args.dry_run) if args.dry_run else None
        report = send_publication(
            store,
            args.publication,
            settings=settings,
            dry_run_dir=dry_run,
            retry=args.retry,
            sender=args.sender,
        )
        lines = [f"Messages envoyés : {len(report.sent)}"]
        if dry_run is not None:
            lines = [f"Messages écrits dans {dry_run} : {len(report.written)}"]
        if report.skipped:
            lines.append(f"Déjà envoyés auparavant : {len(report.skipped)}")
        for address, error in report.failed.items():
            lines.append(f"Échec pour {address} : {error}")
        result = asdict(report) | {"written": [str(p) for p in report.written]}
        emit(args, result, "\n".join(lines))
        return 1 if report.failed else 0

    return _with_store(args, work)
