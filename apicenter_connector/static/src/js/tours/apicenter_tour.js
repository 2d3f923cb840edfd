/** @odoo-module **/
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
// Walks through the screens a person uses: the dashboard, a backend, a failed log line with its payloads, the sales
// from the till, and the setup wizard; each step waits until the screen shows what it should.

import {registry} from "@web/core/registry";

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
        {
            content: "pick its table",
            trigger: ".modal .o_field_widget[name='mapping_ids'] .o_selected_row .o_field_widget[name='known_table'] select",
            run: 'select "warehouse_branch"',
        },
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
            content: "the wizard is done",
            trigger: ".modal .o_apicenter_setup_wizard .o_statusbar_status .o_arrow_button_current:contains('Done')",
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
