{#- Engine-specific setup run before every build (dbt_project.yml on-run-start). -#}
{% macro arrears_setup() %}
    {{ return(adapter.dispatch('arrears_setup', 'arrears')()) }}
{% endmacro %}

{% macro default__arrears_setup() %}
    select 1
{% endmacro %}

{#- PostgreSQL: the try_cast functions live in the target's schema and are called qualified
    (arrears_pg_function), so every model finds them whatever its search_path; PostgreSQL 15 no longer lets
    every user create objects in `public`. -#}
{% macro arrears_pg_function(name) -%}
    {{ adapter.quote(target.schema) }}.{{ name }}
{%- endmacro %}

{% macro postgres__arrears_setup() %}
    create schema if not exists {{ adapter.quote(target.schema) }};
    create or replace function {{ arrears_pg_function('arrears_try_cast_date') }}(value text) returns date language plpgsql immutable as $$
    begin
        return value::date;
    exception when others then
        return null;
    end $$;
    create or replace function {{ arrears_pg_function('arrears_try_cast_numeric') }}(value text) returns numeric language plpgsql immutable as $$
    begin
        if value !~ '^\s*[-+]?[0-9]*\.?[0-9]+\s*$' then return null; end if;
        return value::numeric;
    exception when others then
        return null;
    end $$;
{% endmacro %}
