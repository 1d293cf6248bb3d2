"""Bridge: a self-hosted content-enablement portal."""
from __future__ import annotations

import gc

from flask import Flask
from flask_login import AnonymousUserMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from app import config as bridge_config
from app.extensions import csrf, db, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, CLI."""
    app = Flask(
        __name__,
        template_folder=str(bridge_config.ROOT / "templates"),
        static_folder=str(bridge_config.ROOT / "static"),
    )
    app.config.update(bridge_config.from_environment())
    if config:
        app.config.update(config)
    configure_storage(app)
    configure_requests(app)
    configure_extensions(app)
    configure_blueprints(app)
    configure_templates(app)
    from app.cli import register_commands

    register_commands(app)
    return app


def configure_storage(app: Flask) -> None:
    """Create the node's data directory and the (shared) files directory on first start."""
    from app.files import storage

    app.config["DATA_DIR"].mkdir(parents=True, exist_ok=True)
    storage.init_app(app)


def configure_requests(app: Flask) -> None:
    """Believe forwarding headers from the configured number of proxies only; bound every `<int:…>`
    in a route to the databases' INTEGER, params.MAX_INT (registered before any blueprint adds its rules);
    refuse NUL characters."""
    from app.web.params import IdConverter, refuse_nul_characters

    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        # The client address, scheme and host the last `hops` proxies saw: rate limits and share-link
        # viewer hashes then count people, not the proxy. With 0, a client could forge them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul_characters)


def configure_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(bridge_config.ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    from app import database, search, usage
    from app.accounts import login
    from app.files import pages, pdf
    from app.notifications import instant
    from app.web import security

    login.configure_login(login_manager)
    database.configure(app)
    search.init_app(app)
    # The weekly review job counts content gaps' results as a rep sees them (app/insights/report_job.py).
    app.extensions["gap_counter"] = lambda queries: search.result_counts(AnonymousUserMixin(), queries)
    usage.init_app(app)
    pdf.init_app(app)
    pages.init_app(app)
    instant.init_app(app)
    security.configure(app)


def configure_blueprints(app: Flask) -> None:
    from app.accounts import admin_views as admin
    from app.accounts import views as auth
    from app.api import deal_views  # noqa: F401 (adds the opportunities API to `api`)
    from app.api import views as api
    from app.deals import views as deals
    from app.documents import template_views  # noqa: F401 (adds the template editor to `content`)
    from app.documents import views as documents
    from app.insights import views as insights
    from app.jobs import views as jobs
    from app.library import collection_views as collect
    from app.library import manage_views as content
    from app.library import review_views as review
    from app.library import views as library
    from app.notifications import views as notifications
    from app.rooms import views as rooms
    from app.search import views as synonyms
    from app.sharing import views as share
    from app.web import errors

    for module in (auth, library, documents, collect, share, content, review, synonyms, insights, admin, api, deals,
                   notifications, rooms, jobs, errors):
        app.register_blueprint(module.bp)


def configure_templates(app: Flask) -> None:
    from app import models
    from app.insights import tables as reports
    from app.search.matching import content_words
    from app.web import markup

    app.jinja_env.filters["markdown"] = markup.render_markdown
    app.jinja_env.filters["filesize"] = markup.filesize
    app.jinja_env.filters["cell"] = reports.cell_text
    app.jinja_env.filters["content_words"] = content_words
    app.jinja_env.globals.update(Role=models.Role, AssetKind=models.AssetKind)


def tune_garbage_collector() -> None:
    """For serving processes: leave start-up objects out of GC and collect young objects less often.

    Insights pages turn tens of thousands of rows into objects; with the default thresholds the
    cyclic collector ran many full passes over the ~135,000 objects of the loaded libraries
    during one request (about 40 % of the page's time in bench/insights.py). Reference counting
    still frees almost everything at once; only cycles wait a little longer.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 50)
