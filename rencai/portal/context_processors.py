from rencai.city import city_config


def city(request):
    return {"city": city_config()}
