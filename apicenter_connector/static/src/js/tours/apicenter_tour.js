/** @odoo-module **/
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
// Tours over the screens a person uses (tests/test_tour.py runs them in English, Dutch and Polish):
// - apicenter_connector_tour: the dashboard, a backend, a failed log line with its payloads, the sales from the till,
//   and the setup wizard on an existing backend;
// - apicenter_connector_first_hour: a new shop sets up against the sandboxes (which sales, the mapping checklist,
//   refused rows, the connection check), and a second backend on the same pair is refused;
// - apicenter_connector_first_hour_accept: the administrator accepts the check's problems and resumes the flows.
// Each step waits until the screen shows what it should. Steps find things by field names, values and classes,
// not by words, so the same tour runs in every language; in Dutch and Polish its noEnglish steps fail on English
// text on the screen (the English texts come from the test, see loadFixture).

import {registry} from "@web/core/registry";
import {rpc} from "@web/core/network/rpc";
import {session} from "@web/session";

// Odoo 18 renders a selection field as a <select>, Odoo 19 as a dropdown menu (docs/odoo-series.md).
const ODOO_SERIES = session.server_version_info[0];

// What the test gives the tour (tests/test_tour.py, FIXTURE_KEY): the sandboxes' addresses and credentials, the
// labels of the choices it picks in the user's language, and the English texts that must not be shown.
const fixture = {labels: {}, exact: [], fragments: []};

function loadFixture() {
    return {
        content: "read what the test gives the tour",
        trigger: "body",
        async run() {
            const text = await rpc("/web/dataset/call_kw/ir.config_parameter/get_param", {
                model: "ir.config_parameter",
                method: "get_param",
                args: ["apicenter_connector.tour_fixture"],
                kwargs: {},
            });
            Object.assign(fixture, JSON.parse(text || "{}"));
        },
    };
}

// Text that is data or code, not words of the addon: ids in <code>, payloads, the values people typed.
// Still shown as ids (noted for a later change): a log line's entity and the name of a run ("products #16").
const NOT_WORDS =
    "code, pre, .ace_editor, script, style, textarea, .o_field_widget[name='name'], " +
    ".o_field_widget[name='entity'], .o_field_widget[name='run_id']";

/** A step that fails when English text of the addon or the engine is visible (Dutch and Polish only). */
function noEnglish(where) {
    return {
        content: `no English text on ${where}`,
        trigger: "body",
        run() {
            if (!fixture.exact.length && !fixture.fragments.length) {
                return;
            }
            const exact = new Set(fixture.exact);
            const texts = [];
            const roots = ".o_main_navbar, .o_action_manager, .modal, .o_notification_manager, .o_dialog";
            for (const root of document.querySelectorAll(roots)) {
                const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    const element = node.parentElement;
                    if (!element || element.closest(NOT_WORDS) || !element.checkVisibility()) {
                        continue;
                    }
                    const text = node.textContent.replace(/\s+/g, " ").trim();
                    if (text) {
                        texts.push(text);
                    }
                }
            }
            const found = new Set(texts.filter((text) => exact.has(text)));
            const shown = texts.join(" ");
            for (const fragment of fixture.fragments) {
                if (shown.includes(fragment)) {
                    found.add(fragment);
                }
            }
            if (found.size) {
                throw new Error(
                    `English text on ${where} (${fixture.lang}): ${[...found].map((t) => JSON.stringify(t)).join(", ")}`
                );
            }
        },
    };
}

/** With APICENTER_TOUR_SCREENSHOTS set (tests/test_tour.py), the test saves the screen as ``name``-<lang>.png. */
function shot(name) {
    return {
        content: `screenshot ${name}`,
        trigger: "body",
        async run() {
            if (fixture.screenshots) {
                console.log(`apicenter-screenshot ${name}`);
                await new Promise((resolve) => setTimeout(resolve, 1500));
            }
        },
    };
}

/** Pick ``value`` of the selection field ``field`` inside ``widget`` (a selector of the field's widget). */
function pick(widget, field, value) {
    if (ODOO_SERIES < 19) {
        return [{content: `pick ${field} = ${value}`, trigger: `${widget} select`, run: `select "${value}"`}];
    }
    return [
        {content: `open the choices of ${field}`, trigger: `${widget} .o_select_menu_toggler`, run: "click"},
        {
            content: `pick ${field} = ${value}`,
            trigger: ".o_select_menu_item",
            async run(helpers) {
                const label = (fixture.labels[field] || {})[value];
                let item;
                for (let tries = 0; !item && tries < 40; tries++) {
                    const items = [...document.querySelectorAll(".o_select_menu_item")];
                    item = items.find((el) => el.textContent.trim() === label);
                    if (!item) {
                        await new Promise((resolve) => setTimeout(resolve, 50));
                    }
                }
                if (!item) {
                    throw new Error(`no choice “${label}” (${value}) for ${field}`);
                }
                await helpers.click(item);
                // The choice is shown once the field took it (a click during a re-render can be lost: once more).
                const shown = () => {
                    const toggler = document.querySelector(`${widget} .o_select_menu_toggler`);
                    return toggler && (toggler.value || toggler.textContent || "").trim() === label;
                };
                for (let tries = 0; !shown() && tries < 40; tries++) {
                    await new Promise((resolve) => setTimeout(resolve, 50));
                }
                if (!shown()) {
                    throw new Error(`the choice “${label}” (${value}) was not taken by ${field}`);
                }
            },
        },
    ];
}

const ROW = ".modal .o_field_widget[name='mapping_ids'] .o_selected_row";

function pickTable(table) {
    return pick(`${ROW} .o_field_widget[name='known_table']`, "known_table", table);
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

function openDashboard() {
    return {
        content: "open the dashboard",
        trigger: `.o_menu_sections [data-menu-xmlid="apicenter_connector.apicenter_dashboard_menu"]`,
        run: "click",
    };
}

const WIZARD = ".modal .o_apicenter_setup_wizard";

function wizardAt(step) {
    return {
        content: `the wizard shows the ${step} step`,
        trigger: `${WIZARD} .o_statusbar_status .o_arrow_button_current[data-value='${step}']`,
        // A step may wait for both systems (a connection test retries a refused connection with backoff).
        timeout: 30000,
    };
}

function wizardNext(step) {
    return [
        {
            content: `next: ${step}`,
            trigger: ".modal .modal-footer button[name='action_next']",
            run: "click",
        },
        wizardAt(step),
    ];
}

function wizardField(name, value) {
    return {
        content: `type ${name}`,
        trigger: `${WIZARD} .o_field_widget[name='${name}'] input`,
        run: (helpers) => helpers.edit(value === undefined ? fixture[name] : value),
    };
}

/** An error dialog whose text names ``what`` (a table id, a value: words differ by language), closed. */
function refused(content, ...what) {
    return [
        {
            content,
            trigger: `.o_error_dialog${what.map((w) => `:contains('${w}')`).join("")} .modal-footer .btn-primary`,
        },
        noEnglish("the error"),
        {
            content: "close the error",
            trigger: ".o_error_dialog .modal-footer .btn-primary",
            run: "click",
        },
        {trigger: "body:not(:has(.o_error_dialog))"},
    ];
}

/** Leave the row being edited (a click beside the list), so that the next action starts from the list. */
function leaveRow() {
    return [
        {content: "leave the row", trigger: `${WIZARD} div[name='mappings'] > p`, run: "click"},
        {trigger: `${WIZARD}:not(:has(.o_selected_row))`},
    ];
}

function addRow(table, key, value) {
    return [
        ...leaveRow(),
        {
            content: `add a row to ${table}`,
            trigger: `${WIZARD} .o_field_widget[name='mapping_ids'] .o_field_x2many_list_row_add a`,
            run: "click",
        },
        // The table last: on Odoo 19 a key typed while the table's onchange is under way could reset the table.
        {content: `key ${key}`, trigger: `${ROW} .o_field_widget[name='key'] input`, run: `edit ${key}`},
        {content: `value ${value}`, trigger: `${ROW} .o_field_widget[name='value'] input`, run: `edit ${value}`},
        ...pickTable(table),
        ...leaveRow(),
    ];
}

/** What a list cell shows, read or being edited (an input's value, a select's chosen option). */
function cellText(row, name) {
    const cell = row.querySelector(`td[name='${name}']`);
    const select = cell.querySelector("select");
    if (select) {
        return select.selectedOptions[0]?.textContent.trim();
    }
    const input = cell.querySelector("input");
    return (input ? input.value : cell.textContent).trim();
}

/** Change the value of the row of ``table`` whose key is ``key``. The row is found by the table's label in the
 * user's language (the fixture's) and its key, both whole. */
function editRow(table, key, value) {
    return [
        {
            content: `open the row ${key} of ${table}`,
            trigger: `${WIZARD} .o_field_widget[name='mapping_ids'] .o_data_row td[name='key']`,
            async run(helpers) {
                const label = fixture.labels.known_table[table];
                const rows = document.querySelectorAll(`${WIZARD} .o_field_widget[name='mapping_ids'] .o_data_row`);
                const row = [...rows].find(
                    (r) => cellText(r, "known_table") === label && cellText(r, "key") === key
                );
                if (!row) {
                    throw new Error(`no row ${key} in ${label}`);
                }
                await helpers.click(row.querySelector("td[name='value']"));
            },
        },
        {
            content: `value ${value}`,
            trigger: `${ROW} .o_field_widget[name='value'] input`,
            run: `edit ${value}`,
        },
        ...leaveRow(),
    ];
}

registry.category("web_tour.tours").add("apicenter_connector_tour", {
    url: "/odoo/action-apicenter_connector.apicenter_flow_action_dashboard",
    steps: () => [
        loadFixture(),
        {
            content: "the dashboard shows a card per flow, with its backend",
            trigger: ".o_apicenter_dashboard .o_kanban_record:contains('Tour Backend')",
        },
        {
            content: "a flow card shows its counters",
            trigger: ".o_apicenter_dashboard .o_kanban_record .o_apicenter_last_run",
        },
        {
            content: "the failing flow is flagged",
            trigger: ".o_apicenter_dashboard .o_kanban_record .o_field_widget[name='health'] .text-bg-danger",
        },
        noEnglish("the dashboard"),
        ...openMenu("apicenter_menu_configuration", "apicenter_backend_menu"),
        {
            content: "open the backend",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('Tour Backend')",
            run: "click",
        },
        {
            content: "the backend form has its status bar and notebook",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current[data-value='connected']",
        },
        noEnglish("the backend"),
        {
            content: "open the MplusKASSA page",
            trigger: ".o_form_view .o_notebook .nav-link:contains('MplusKASSA')",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='mplus_url']",
        },
        noEnglish("the backend's MplusKASSA page"),
        ...openMenu("apicenter_menu_operations", "apicenter_log_line_failed_menu"),
        {
            content: "open the failed log line",
            trigger: ".o_list_view .o_data_row:contains('AB-1') td[name='source_id']",
            run: "click",
        },
        {
            content: "the error is shown",
            trigger: ".o_form_view .alert-danger:contains('AB-1')",
        },
        {
            content: "the source payload is pretty-printed",
            trigger: ".o_form_view .o_field_widget[name='source_payload_pretty'] .ace_editor",
        },
        {
            content: "Retry is offered",
            trigger: ".o_form_view .o_form_statusbar button[name='action_retry']",
        },
        noEnglish("a failed log line"),
        ...openMenu("apicenter_menu_operations", "apicenter_sale_menu"),
        {
            content: "the sales from the till show what waits, and why",
            trigger: ".o_list_view .o_data_row.text-warning:contains('TOUR-RECEIPT-1'):contains('999001')",
        },
        {
            content: "Retry now and Ignore are offered on the waiting sale",
            trigger: ".o_list_view .o_data_row:contains('TOUR-RECEIPT-1') button[name='action_ignore']",
        },
        noEnglish("the sales from the till"),
        ...openMenu("apicenter_menu_configuration", "apicenter_setup_wizard_menu"),
        {
            content: "the setup wizard opens on its first step",
            trigger: `${WIZARD} .o_statusbar_status .o_arrow_button_current[data-value='credentials']`,
        },
        noEnglish("the wizard's credentials"),
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
        ...wizardNext("test"),
        noEnglish("the wizard's failed test"),
        {
            content: "the failed connection test offers to go on without it",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='skip_test'] input",
            run: "click",
        },
        ...wizardNext("flows"),
        noEnglish("the wizard's flows"),
        {
            content: "the flows step asks which sales to book",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='book_receipts'] input",
        },
        ...["flow_customers", "flow_prices", "flow_orders"].map((name) => ({
            content: `only products and stock: untick ${name}`,
            trigger: `.modal .o_apicenter_setup_wizard .o_field_widget[name='${name}'] input:checked`,
            run: "click",
        })),
        ...wizardNext("settings"),
        noEnglish("the wizard's settings"),
        {
            content: "the settings step asks about blocked and deleted articles",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='inactive_articles']",
        },
        ...wizardNext("mappings"),
        noEnglish("the wizard's mapping checklist"),
        {
            content: "the mapping step names the tables the chosen flows need",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='mapping_guide']:contains('vat_code_av_mplus')",
        },
        {
            content: "add a mapping row",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='mapping_ids'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        ...pickTable("warehouse_branch"),
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
        ...refused("refused: a table the chosen flows need is empty, and named", "vat_code_av_mplus"),
        {
            content: "add the VAT row",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='mapping_ids'] .o_field_x2many_list_row_add a",
            run: "click",
        },
        ...pickTable("vat_code_av_mplus"),
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
            trigger: `${WIZARD} .o_statusbar_status .o_arrow_button_current[data-value='check']`,
        },
        {
            content: "the problems are listed (nothing answers at 127.0.0.1:9)",
            trigger: ".modal .o_apicenter_setup_wizard .o_field_widget[name='check_problem_ids'] .o_data_row",
        },
        {
            content: "accepting them is offered",
            trigger: ".modal .modal-footer button[name='action_accept_and_activate']",
        },
        noEnglish("the wizard's connection check"),
        {
            content: "close the wizard",
            trigger: ".modal .modal-footer button[special='cancel']",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});

registry.category("web_tour.tours").add("apicenter_connector_first_hour", {
    url: "/odoo/action-apicenter_connector.apicenter_flow_action_dashboard",
    steps: () => [
        loadFixture(),
        {content: "the dashboard", trigger: ".o_kanban_view"},
        {
            content: "a new shop: the dashboard has no card yet",
            trigger: "body:not(:has(.o_kanban_record:not(.o_kanban_ghost)))",
        },
        noEnglish("the empty dashboard"),
        ...openMenu("apicenter_menu_configuration", "apicenter_setup_wizard_menu"),
        wizardAt("credentials"),
        {
            content: "no backend yet: the wizard starts a new one",
            trigger: `${WIZARD} .o_field_widget[name='name'] input:value('AccountView ↔ MplusKASSA')`,
        },
        noEnglish("the wizard's credentials"),
        wizardField("name", "Tour Shop"),
        wizardField("av_base_url"),
        ...["av_client_id", "av_client_secret", "mplus_url", "mplus_ident", "mplus_secret"].map((name) =>
            wizardField(name)
        ),
        ...wizardNext("test"),
        {
            content: "both connections work (the sandboxes, over real sockets)",
            trigger: `${WIZARD} .o_field_widget[name='av_ok'] input:checked`,
        },
        {trigger: `${WIZARD} .o_field_widget[name='mplus_ok'] input:checked`},
        noEnglish("the wizard's connection test"),
        shot("odoo_setup_wizard_test"),
        ...wizardNext("flows"),
        {
            content: "the till sold at the counter lately: its till receipts are pre-selected",
            trigger: `${WIZARD} .o_field_widget[name='book_receipts'] input:checked`,
        },
        {
            content: "what the till holds is said",
            trigger: `${WIZARD} .o_field_widget[name='sales_found']:contains('1')`,
        },
        {trigger: `${WIZARD} .o_field_widget[name='book_invoices'] input:not(:checked)`},
        {
            content: "each receipt its own document",
            trigger: `${WIZARD} .o_field_widget[name='receipt_booking'] input:checked`,
        },
        noEnglish("the wizard's flows: which sales to book"),
        shot("odoo_setup_wizard_sales"),
        ...["flow_customers", "flow_stock", "flow_prices"].map((name) => ({
            content: `products and orders: untick ${name}`,
            trigger: `${WIZARD} .o_field_widget[name='${name}'] input:checked`,
            run: "click",
        })),
        ...wizardNext("settings"),
        ...pick(`${WIZARD} .o_field_widget[name='default_debtor_mode']`, "default_debtor_mode", "when_no_customer"),
        wizardField("default_debtor_number", "10001"),
        noEnglish("the wizard's settings"),
        ...wizardNext("mappings"),
        {
            content: "the checklist: the VAT codes were pre-filled by rate (0 → 0)",
            trigger: `${WIZARD} .o_field_widget[name='mapping_ids'] .o_data_row td[name='key']:contains(/^0$/)`,
        },
        {
            content: "the table the orders flow needs is marked required",
            trigger: `${WIZARD} .o_field_widget[name='mapping_guide'] .badge.text-bg-danger`,
        },
        noEnglish("the wizard's mapping checklist"),
        shot("odoo_setup_wizard_mappings"),
        // AccountView's VAT code 0 (0 %) onto the till's code 2 (21 %): refused on save.
        ...editRow("vat_code_av_mplus", "0", "2"),
        {
            content: "check and activate: saves the rows",
            trigger: ".modal .modal-footer button[name='action_activate']",
            run: "click",
        },
        shot("odoo_setup_wizard_vat_refused"),
        ...refused("refused: 0 % onto 21 %, the table named", "vat_code_av_mplus", "21"),
        ...editRow("vat_code_av_mplus", "0", "0"),
        // A branch the till does not list: refused on save, naming the table and what is allowed.
        ...addRow("warehouse_branch", "HOOFD", "99"),
        {
            content: "check and activate: saves the rows",
            trigger: ".modal .modal-footer button[name='action_activate']",
            run: "click",
        },
        ...refused("refused: branch 99 is not one the till lists", "warehouse_branch", "99"),
        ...editRow("warehouse_branch", "HOOFD", "1"),
        ...addRow("payment_method_condition", "PIN", "0"),
        {
            content: "check and activate",
            trigger: ".modal .modal-footer button[name='action_activate']",
            run: "click",
        },
        wizardAt("check"),
        {
            content: "the check's problems are listed; nothing is scheduled before they are fixed or accepted",
            trigger: `${WIZARD} .o_field_widget[name='check_problem_ids'] .o_data_row`,
        },
        {
            content: "accepting them is offered",
            trigger: ".modal .modal-footer button[name='action_accept_and_activate']",
        },
        noEnglish("the wizard's connection check"),
        shot("odoo_setup_wizard_check"),
        {
            content: "close the wizard without accepting: the flows stay held",
            trigger: ".modal .modal-footer button[special='cancel']",
            run: "click",
        },
        {trigger: "body:not(:has(.modal))"},
        // A second backend for the same AccountView company and till administration is refused.
        ...openMenu("apicenter_menu_configuration", "apicenter_setup_wizard_menu"),
        {
            content: "opened again, the wizard edits the shop's backend",
            trigger: `${WIZARD} .o_field_widget[name='name'] input:value('Tour Shop')`,
        },
        {
            content: "empty the Backend field: a new backend",
            trigger: `${WIZARD} .o_field_widget[name='backend_id'] input`,
            run: "clear",
        },
        wizardField("name", "Second Shop"),
        wizardField("mplus_secret"),
        wizardField("av_client_secret"),
        {
            content: "next: saving the second backend",
            trigger: ".modal .modal-footer button[name='action_next']",
            run: "click",
        },
        shot("odoo_setup_wizard_second_backend"),
        ...refused("refused: the pair is served by Tour Shop, named", "Tour Shop"),
        {
            content: "close the wizard",
            trigger: ".modal .modal-footer button[special='cancel']",
            run: "click",
        },
        {trigger: "body:not(:has(.modal))"},
        openDashboard(),
        {
            content: "the dashboard shows the shop's flows, paused and held",
            trigger: ".o_apicenter_dashboard .o_kanban_record:contains('Tour Shop') .o_apicenter_hold",
        },
        noEnglish("the dashboard of a held backend"),
        shot("odoo_dashboard_held"),
    ],
});

registry.category("web_tour.tours").add("apicenter_connector_first_hour_accept", {
    url: "/odoo/action-apicenter_connector.apicenter_flow_action_dashboard",
    steps: () => [
        loadFixture(),
        ...openMenu("apicenter_menu_configuration", "apicenter_backend_menu"),
        {
            content: "open the shop's backend",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('Tour Shop')",
            run: "click",
        },
        {
            content: "open its connection checks",
            trigger: ".o_form_view button[name='action_view_doctor_reports']",
            run: "click",
        },
        {
            content: "open the latest check",
            trigger: ".o_list_view .o_data_row:first td[name='checked_at']",
            run: "click",
        },
        noEnglish("the connection check's report"),
        {
            content: "accept its problems",
            trigger: ".o_form_view .o_form_statusbar button[name='action_confirm']",
            run: "click",
        },
        {
            content: "confirm: the accepted lines are kept on the report",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "accepted: the button is gone",
            trigger: ".o_form_view:not(:has(.o_form_statusbar button[name='action_confirm']))",
        },
        openDashboard(),
        {
            content: "the cards hold no more",
            trigger: ".o_apicenter_dashboard:has(.o_kanban_record:contains('Tour Shop')):not(:has(.o_apicenter_hold))",
        },
        {
            content: "resume the products flow",
            trigger: ".o_apicenter_dashboard .o_kanban_record:first button[name='action_toggle_enabled']:visible",
            run: "click",
        },
        {
            content: "resume the orders flow",
            trigger: ".o_apicenter_dashboard .o_kanban_record:last button[name='action_toggle_enabled']:visible",
            run: "click",
        },
        {
            content: "both are scheduled",
            trigger: ".o_apicenter_dashboard:not(:has(.o_kanban_record .badge.text-bg-secondary))",
        },
        noEnglish("the dashboard, running"),
    ],
});
