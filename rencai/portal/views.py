from django.shortcuts import render

from rencai.city import city_setting
from rencai.orgs.models import Employer


def home(request):
    ctx = {
        "employer_count": Employer.objects.filter(status="approved")
        .exclude(kind="virtual")
        .count(),
        "lockout_failures": city_setting("lockout_failures"),
    }
    return render(request, "portal/home.html", ctx)
