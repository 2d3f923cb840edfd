# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "APIcenter Connector (AccountView ↔ MplusKASSA)",
    "summary": "Sync AccountView and MplusKASSA from Odoo: flows, mappings, queued jobs, activity log",
    # No series here: Odoo puts the running series in front (18.0.1.5.0 on 18, 19.0.1.5.0 on 19), as it does for
    # any x.y.z version; the packages get it from .ci/build-addon.py (docs/odoo-series.md).
    "version": "1.5.0",
    "category": "Connector",
    "license": "LGPL-3",
    "author": "APIcenter Connector contributors",
    "website": "https://github.com/apicenter/apicenter_connector",
    "development_status": "Alpha",
    "depends": ["base", "base_setup", "mail", "queue_job"],
    # Distribution names (what pip installs); Odoo 18 looks them up with importlib.metadata.
    "external_dependencies": {
        "python": ["apicenter-sync", "httpx", "zeep", "pydantic"],
    },
    "data": [
        "data/apicenter_series.xml",
        "security/apicenter_security.xml",
        "security/ir.model.access.csv",
        "data/queue_job_data.xml",
        "data/ir_cron.xml",
        "wizards/apicenter_setup_wizard_views.xml",
        "wizards/apicenter_profile_transfer_views.xml",
        "views/apicenter_doctor_report_views.xml",
        "views/apicenter_profile_line_views.xml",
        "views/apicenter_backend_views.xml",
        "views/apicenter_flow_views.xml",
        "views/apicenter_mapping_views.xml",
        "views/apicenter_datamapper_line_views.xml",
        "views/apicenter_binding_views.xml",
        "views/apicenter_watermark_views.xml",
        "views/apicenter_run_views.xml",
        "views/apicenter_log_line_views.xml",
        "views/apicenter_sale_views.xml",
        "views/apicenter_setting_views.xml",
        "views/res_config_settings_views.xml",
        "views/apicenter_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "apicenter_connector/static/src/scss/apicenter.scss",
        ],
        "web.assets_tests": [
            "apicenter_connector/static/src/js/tours/apicenter_tour.js",
        ],
    },
    "application": True,
}
