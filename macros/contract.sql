{#-
    GENERATED from arrears/contract.py by `python -m arrears.contract --write`: do not edit by hand
    (tests/pytest/test_contract.py fails when this file and arrears/contract.py disagree).

    The raw input contract (../shared/CONTRACT.md, version 2) as data: for every table its key, its required
    and optional columns, the staged type of every column, and whether the table itself is optional. Staging,
    the quarantine and the raw reader take the column lists from here.
-#}
{% macro contract() %}
    {{ return({
        'customers': {
            'key': ['customer_id'], 'optional_table': false,
            'required': ['customer_id', 'customer_name'],
            'optional': ['customer_type', 'region', 'phone', 'email', 'contact_person', 'account_manager',
                         'credit_limit', 'annual_income', 'total_debt', 'is_key_account', 'created_date'],
            'types': {'credit_limit': 'decimal(38,2)', 'annual_income': 'decimal(38,2)',
                      'total_debt': 'decimal(38,2)', 'is_key_account': 'boolean', 'created_date': 'date'},
        },
        'invoices': {
            'key': ['invoice_id'], 'optional_table': false,
            'required': ['invoice_id', 'customer_id', 'invoice_date', 'due_date', 'amount'],
            'optional': ['currency', 'document_type', 'status'],
            'types': {'invoice_date': 'date', 'due_date': 'date', 'amount': 'decimal(38,2)'},
        },
        'payments': {
            'key': ['payment_id'], 'optional_table': false,
            'required': ['payment_id', 'customer_id', 'payment_date', 'amount'],
            'optional': ['invoice_id', 'currency', 'method', 'status'],
            'types': {'payment_date': 'date', 'amount': 'decimal(38,2)'},
        },
        'collection_actions': {
            'key': ['action_id'], 'optional_table': true,
            'required': ['action_id', 'customer_id', 'action_date', 'channel', 'outcome'],
            'optional': ['hardship_reason', 'promised_amount', 'promised_date'],
            'types': {'action_date': 'date', 'promised_amount': 'decimal(38,2)', 'promised_date': 'date'},
        },
        'fx_rates': {
            'key': ['currency', 'rate_date'], 'optional_table': true,
            'required': ['currency', 'rate_date', 'rate_to_base'],
            'optional': [],
            'types': {'rate_date': 'date', 'rate_to_base': 'decimal(18,8)'},
        },
    }) }}
{% endmacro %}

{% macro contract_columns(table_name) %}
    {%- set spec = contract()[table_name] -%}
    {{ return(spec['required'] + spec['optional']) }}
{% endmacro %}

{#- Code sets of the contract, for staging checks and tests. -#}
{% macro contract_codes(name) %}
    {{ return({
        'customer_type': ['business', 'individual'],
        'document_type': ['invoice', 'credit_note'],
        'status': ['posted', 'void'],
        'channel': ['call', 'sms', 'email', 'letter', 'visit', 'legal'],
        'outcome': ['no_answer', 'reached', 'promise_to_pay', 'refused', 'dispute', 'hardship', 'wrong_contact'],
        'hardship_reason': ['illness', 'accident', 'job_loss', 'business_downturn', 'disaster', 'other'],
    }[name]) }}
{% endmacro %}

{#- Contact outcomes by whether the customer was reached: contact_outcomes('reached' | 'unreached'). -#}
{% macro contact_outcomes(group) %}
    {{ return({
        'reached': ['reached', 'promise_to_pay', 'hardship', 'dispute', 'refused'],
        'unreached': ['no_answer', 'wrong_contact'],
    }[group]) }}
{% endmacro %}

{#- "'a', 'b', 'c'" for an IN list. -#}
{% macro sql_list(values) -%}
    {%- for v in values %}'{{ v }}'{{ ", " if not loop.last }}{% endfor -%}
{%- endmacro %}
