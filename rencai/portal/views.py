from django.shortcuts import render

from rencai.orgs.models import Employer


def home(request):
    ctx = {
        "employer_count": Employer.objects.filter(status="approved").exclude(kind="virtual").count()
    }
    return render(request, "portal/home.html", ctx)
