from django import template

from rencai.talent import selectors

register = template.Library()


@register.inclusion_tag("talent/_menu.html", takes_context=True)
def talent_menu(context):
    """F49: the centre menu lists the services the person's category opens."""
    user = context["user"]
    programs = selectors.talent_programs()
    tiles = [t for t in selectors.service_tiles(user, programs) if not t.closed]
    return {
        "show": bool(tiles) or selectors.classification_program(programs) is not None,
        "tiles": tiles,
        "menu": context.get("menu"),
        "program": context.get("program"),
    }
