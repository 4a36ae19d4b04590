from django.http import HttpResponse


def staff_home(request):  # replaced below
    return HttpResponse("")


def inspection_list(request):
    return HttpResponse("")
