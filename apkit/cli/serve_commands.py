"""Commands that serve the dashboards and hand out access codes.

``apkit serve`` runs Voilà on the dashboards folder until SIGTERM or Ctrl-C;
``apkit demo`` loads the sample school into an empty database first. ``apkit codes
generate`` creates personal codes and writes them, the only time they exist in
plain text, to a CSV file and optionally to printable slips; ``apkit codes slips``
prints slips again from that CSV, and ``apkit codes export`` lists who holds a
valid code, without the codes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from apkit import access
from apkit.cli import emit
from apkit.french import plural
from apkit.serve import DEFAULT_HOST, DEFAULT_PORT, HOME_PAGE, VoilaServer
from apkit.store import Store


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``serve``, ``demo`` and ``codes`` to the ``apkit`` parser."""
    for name, handler, summary in [
        ("serve", _serve, "servir les pages élèves et enseignants avec Voilà"),
        ("demo", _demo, "charger l'établissement d'exemple puis servir les pages"),
    ]:
        parser = subparsers.add_parser(name, help=summary, description=summary)
        parser.add_argument(
            "--port", type=int, default=DEFAULT_PORT, help="port TCP (défaut : 8866)"
        )
        parser.add_argument(
            "--host",
            default=DEFAULT_HOST,
            help="adresse d'écoute (défaut : 127.0.0.1, la machine seule ; "
            "mettez un proxy inverse devant pour le réseau du lycée)",
        )
        parser.add_argument(
            "--base-url",
            default="/",
            help="préfixe des adresses derrière un proxy inverse, par exemple /ap/",
        )
        parser.set_defaults(handler=handler)

    codes = subparsers.add_parser("codes", help="codes d'accès personnels")
    actions = codes.add_subparsers(
        dest="codes_command", required=True, metavar="ACTION"
    )
    _register_generate(actions)

    parser = actions.add_parser(
        "slips", help="imprimer les coupons à partir du fichier des codes"
    )
    parser.add_argument("csv", type=Path, metavar="FICHIER", help="codes.csv généré")
    parser.add_argument("--out", type=Path, default=Path("coupons"), help="dossier")
    parser.add_argument("--url", required=True, help="adresse publique du serveur")
    parser.set_defaults(handler=_slips)

    parser = actions.add_parser(
        "export", help="lister les titulaires d'un code valide (sans les codes)"
    )
    parser.set_defaults(handler=_export)


def _register_generate(actions: argparse._SubParsersAction) -> None:
    parser = actions.add_parser(
        "generate",
        help="créer de nouveaux codes (les anciens des mêmes personnes sont révoqués)",
        description="Crée les codes et les écrit une seule fois dans le fichier CSV : "
        "apkit n'en garde qu'une empreinte et ne pourra pas les relire.",
    )
    parser.add_argument("--students", action="store_true", help="tous les élèves")
    parser.add_argument(
        "--class", dest="class_names", action="append", metavar="CLASSE",
        help="les élèves de cette classe (option répétable)",
    )  # fmt: skip
    parser.add_argument(
        "--student", dest="student_ids", action="append", metavar="ID",
        help="l'élève de cet identifiant (STU001), sans toucher aux codes des "
        "autres élèves, par exemple pour un élève arrivé en cours d'année "
        "(option répétable)",
    )  # fmt: skip
    parser.add_argument("--teachers", action="store_true", help="tous les enseignants")
    parser.add_argument(
        "--coordinator", action="store_true", help="le code de la coordination"
    )
    parser.add_argument(
        "--administration",
        action="store_true",
        help="le code de l'administration (page des statistiques, en lecture seule)",
    )
    parser.add_argument("--out", type=Path, default=Path("codes.csv"), help="CSV")
    parser.add_argument("--slips", type=Path, metavar="DOSSIER", help="coupons PDF")
    parser.add_argument(
        "--url",
        default=f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/",
        help="adresse publique du serveur, imprimée dans les liens",
    )
    parser.set_defaults(handler=_generate)


def _server(args: argparse.Namespace, store: Store) -> VoilaServer:
    return VoilaServer(
        database_url=store.url, port=args.port, host=args.host, base_url=args.base_url
    )


def _run(args: argparse.Namespace, store: Store) -> int:
    server = _server(args, store)
    store.dispose()
    print(f"Accueil : {server.page_url(HOME_PAGE)}")
    print(f"Page des élèves : {server.page_url('inscription.ipynb')}")
    print("Arrêt : Ctrl-C.")
    return server.serve_forever()


def _serve(args: argparse.Namespace) -> int:
    # Migrating here, once, lets every page's kernel open the store without Alembic.
    return _run(args, Store(args.database))


def _demo(args: argparse.Namespace) -> int:
    from apkit.sample import ensure_sample_school

    store = Store(args.database)
    if ensure_sample_school(store):
        print("Établissement d'exemple chargé.")
    else:
        print("La base contient déjà des élèves : rien n'a été chargé.")
    return _run(args, store)


def _generate(args: argparse.Namespace) -> int:
    selections = (args.students, args.class_names, args.student_ids, args.teachers)
    if not (any(selections) or args.coordinator or args.administration):
        raise SystemExit(
            "apkit codes generate : choisissez --students, --class, --student, "
            "--teachers, --coordinator ou --administration"
        )
    store = Store(args.database)
    issued = access.generate_codes(
        store,
        students=args.students,
        class_names=args.class_names,
        student_ids=args.student_ids,
        teachers=args.teachers,
        coordinator=args.coordinator,
        administration=args.administration,
    )
    access.write_codes_csv(issued, args.out, base_url=args.url)
    paths = (
        access.write_slips(issued, args.slips, base_url=args.url) if args.slips else []
    )
    result = {
        "codes": len(issued),
        "csv": str(args.out),
        "slips": [str(p) for p in paths],
    }
    created = plural(len(issued), "code créé et écrit", "codes créés et écrits")
    text = (
        f"{created} dans {args.out} ; gardez ce fichier à l'abri, les codes ne "
        "peuvent pas être relus."
    )
    if paths:
        text += f"\nCoupons : {', '.join(str(p) for p in paths)}"
    emit(args, result, text)
    return 0


def _slips(args: argparse.Namespace) -> int:
    issued = access.read_codes_csv(args.csv)
    paths = access.write_slips(issued, args.out, base_url=args.url)
    emit(args, [str(p) for p in paths], "\n".join(f"Coupons : {p}" for p in paths))
    return 0


def _export(args: argparse.Namespace) -> int:
    rows = access.list_codes(Store(args.database))
    lines = [
        f"{access.ROLE_LABELS[access.Role(r['role'])]};{r['label']};{r['lookup']};"
        f"{r['created_at']:%d/%m/%Y}"
        for r in rows
    ]
    emit(args, rows, "\n".join(["rôle;nom;préfixe;créé le", *lines]))
    return 0
