{#- Engine-specific setup run before every build (dbt_project.yml on-run-start). -#}
{% macro arrears_setup() %}
    {{ return(adapter.dispatch('arrears_setup', 'arrears')()) }}
{% endmacro %}

{% macro default__arrears_setup() %}
    select 1
{% endmacro %}

{% macro postgres__arrears_setup() %}
    create or replace function arrears_try_cast_date(value text) returns date language plpgsql immutable as $$
    begin
        return value::date;
    exception when others then
        return null;
    end $$;
    create or replace function arrears_try_cast_numeric(value text) returns numeric language plpgsql immutable as $$
    begin
        if value !~ '^\s*[-+]?[0-9]*\.?[0-9]+\s*$' then return null; end if;
        return value::numeric;
    exception when others then
        return null;
    end $$;
{% endmacro %}
