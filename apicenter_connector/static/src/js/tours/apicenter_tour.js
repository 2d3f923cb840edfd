/** @odoo-module **/
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
// Walks through the screens a person uses: the dashboard, a backend, a failed log line with its payloads, the sales
// from the till, and the setup wizard; each step waits until the screen shows what it should.

import {registry} from "@web/core/registry";
import {session} from "@web/session";

// Odoo 18 renders a selection field as a <select>, Odoo 19 as a dropdown menu (docs/odoo-series.md).
const ODOO_SERIES = session.server_version_info[0];

function pickSelection(field, value, label) {
    const widget = `.modal .o_field_widget[name='mapping_ids'] .o_selected_row .o_field_widget[name='${field}']`;
    if (ODOO_SERIES < 19) {
        return [{content: `pick ${label}`, trigger: `${widget} select`, run: `select "${value}"`}];
    }
    return [
        {content: `open the choices of ${field}`, trigger: `${widget} .o_select_menu_toggler`, run: "click"},
        {content: `pick ${label}`, trigger: `.o_select_menu_item:contains('${label}')`, run: "click"},
    ];
}

function openMenu(section, item) {
    return [
        {
            content: `open the ${section} menu`,
            trigger: `.o_menu_sections [data-menu-xmlid="apicenter_connector.${section}"]`,
            run: "click",
        },
        {
            content: `choose ${item}`,
            trigger: `.dropdown-item[data-menu-xmlid="apicenter_connector.${item}"]`,
            run: "click",
        },
    ];
}

function wizardNext(step) {
    return [
        {
            content: `next: ${step}`,
            trigger: ".modal .modal-footer button[name='action_next']",
            run: "click",
        },
        {
            content: `the wizard shows the ${step} step`,
            trigger: `.modal .o_apicenter_setup_wizard .o_statusbar_status .o_arrow_button_current:contains('${step}')`,
        },
    ];
}

registry.category("web_tour.tours").add("apicenter_connector_tour", {
    url: "/odoo/action-apicenter_connector.apicenter_flow_action_dashboard",
    steps: () => [
        {
            content: "the dashboard shows a card per flow, with its backend",
            trigger: ".o_apicenter_dashboard .o_kanban_record:contains('Tour Backend')",
        },
        {
            content: "a flow card shows its counters",
            trigger: ".o_apicenter_dashboard .o_kanban_record:contains('Products'):contains('Last run, in records')",
        },
        {
            content: "the failing flow is flagged",
            trigger: ".o_apicenter_dashboard .o_kanban_record:contains('Failing')",
        },
        ...openMenu("apicenter_menu_configuration", "apicenter_backend_menu"),
        {
            content: "open the backend",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('Tour Backend')",
            run: "click",
        },
        {
            content: "the backend form has its status bar and notebook",
            trigger: ".o_form_view .o_statusbar_status:contains('Connected')",
        },
        {
            content: "open the MplusKASSA page",
            trigger: ".o_form_view .o_notebook .nav-link:contains('MplusKASSA')",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='mplus_url']",
        },
        ...openMenu("apicenter_menu_operations", "apicenter_log_line_failed_menu"),
        {
            content: "open the failed log line",
            trigger: ".o_list_view .o_data_row:contains('AB-1') td[name='source_id']",
            run: "click",
        },
        {
            content: "the error is shown",
            trigger: ".o_form_view .alert-danger:contains('not numeric')",
        },
        {
            content: "the source payload is pretty-printed",
            trigger: ".o_form_view .o_field_widget[name='source_payload_pretty'] .ace_editor",
        },
        {
            content: "Retry is offered",
            trigger: ".o_form_view .o_form_statusbar button[name='action_retry']",
        },
        ...openMenu("apicenter_menu_operations", "apicenter_sale_menu"),
        {
            content: "the sales from the till show what waits, and why",
            trigger: ".o_list_view .o_data_row:contains('TOUR-RECEIPT-1'):contains('Waiting for articles'):contains('999001')",
        },
        {
            content: "Retry now and Ignore are offered on the waiting sale",
            trigger: ".o_list_view .o_data_row:contains('TOUR-RECEIPT-1') button[name='action_ignore']",
        },
        ...openMenu("apicenter_menu_configuration", "apicenter_setup_wizard_menu"),
        {
            content: "the setup wizard opens on its first step",
            trigger: ".modal .o_apicenter_setup_wizard .o_statusbar_status:contains('Credentials')",
        },
        {
            content: "where a backend exists, the wizard edits it (one backend per company and till)",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='name'] input:value('Tour Backend')",
        },
        {
            content: "AccountView URL (nothing answers there: the tour goes on without a connection)",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='av_base_url'] input",
            run: "edit http://127.0.0.1:9",
        },
        {
            content: "MplusKASSA URL",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='mplus_url'] input",
            run: "edit http://127.0.0.1:9",
        },
        ...wizardNext("Test"),
        {
            content: "the failed connection test offers to go on without it",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='skip_test'] input",
            run: "click",
        },
        ...wizardNext("Flows"),
        {
            content: "the flows step asks which sales to book",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='book_receipts'] input",
        },
        ...["flow_customers", "flow_prices", "flow_orders"].map((name) => ({
            content: `only products and stock: untick ${name}`,
            trigger: `.modal .o_apicenter_setup_wizard .o_field_widget[name='${name}'] input:checked`,
            run: "click",
        })),
        ...wizardNext("Settings"),
        {
            content: "the settings step asks about blocked and deleted articles",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='inactive_articles']",
        },
        ...wizardNext("Mappings"),
        {
            content: "the mapping step names the tables the chosen flows need",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='mapping_guide']:contains('vat_code_av_mplus')",
        },
        {
            content: "add a mapping row",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='mapping_ids'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        ...pickSelection("known_table", "warehouse_branch", "Warehouses → MplusKASSA branches"),
        {
            content: "the warehouse",
            trigger: ".modal .o_field_widget[name='mapping_ids'] .o_selected_row .o_field_widget[name='key'] input",
            run: "edit HOOFD",
        },
        {
            content: "the branch",
            trigger: ".modal .o_field_widget[name='mapping_ids'] .o_selected_row .o_field_widget[name='value'] input",
            run: "edit 1",
        },
        {
            content: "activate",
            trigger: ".modal .modal-footer button[name='action_activate']",
            run: "click",
        },
        {
            content: "refused: a table the chosen flows need is empty, and named",
            trigger: ".modal:contains('Fill the mapping tables'):contains('vat_code_av_mplus') .modal-footer button.btn-primary",
            run: "click",
        },
        {
            content: "add the VAT row",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='mapping_ids'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        ...pickSelection("known_table", "vat_code_av_mplus", "VAT codes AccountView → MplusKASSA"),
        {
            content: "the AccountView VAT code",
            trigger: ".modal .o_field_widget[name='mapping_ids'] .o_selected_row .o_field_widget[name='key'] input",
            run: "edit 2",
        },
        {
            content: "the till's VAT code",
            trigger: ".modal .o_field_widget[name='mapping_ids'] .o_selected_row .o_field_widget[name='value'] input",
            run: "edit 2",
        },
        {
            content: "check and activate",
            trigger: ".modal .modal-footer button[name='action_activate']",
            run: "click",
        },
        {
            content: "the connection check ran and shows its problems: nothing is scheduled",
            trigger: ".modal .o_apicenter_setup_wizard .o_statusbar_status .o_arrow_button_current:contains('Check')",
        },
        {
            content: "the problems are listed (nothing answers at 127.0.0.1:9)",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='check_problem_ids'] .o_data_row",
        },
        {
            content: "accepting them is offered",
            trigger: ".modal .modal-footer button[name='action_accept_and_activate']",
        },
        {
            content: "close the wizard",
            trigger: ".modal .modal-footer button:contains('Close')",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
