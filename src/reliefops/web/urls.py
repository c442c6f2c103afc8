from django.contrib.auth import views as auth_views
from django.urls import path

from reliefops.core.security import ThrottledAuthenticationForm
from reliefops.core.views import PasswordChangeView
from reliefops.reports import views as reports_views
from reliefops.web import views

app_name = "web"

urlpatterns = [
    # The home page is the operations dashboard; the reference data's overview has its own page.
    path("", reports_views.dashboard, name="home"),
    path("reference/", views.home, name="reference"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html",
            redirect_authenticated_user=True,
            authentication_form=ThrottledAuthenticationForm,
        ),
        name="login",
    ),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", PasswordChangeView.as_view(), name="password-change"),
    path("places/areas/", views.adminarea_list, name="adminarea-list"),
    path("places/areas/<str:pcode>/", views.adminarea_detail, name="adminarea-detail"),
    path("places/sites/", views.site_list, name="site-list"),
    path("places/sites/<int:site_id>/", views.site_detail, name="site-detail"),
    path("partners/organisations/", views.organisation_list, name="organisation-list"),
    path(
        "partners/organisations/<int:organisation_id>/",
        views.organisation_detail,
        name="organisation-detail",
    ),
    path("catalog/items/", views.item_list, name="item-list"),
    path("catalog/items/<path:code>/", views.item_detail, name="item-detail"),
    path("catalog/kits/", views.kit_list, name="kit-list"),
    path("catalog/kits/<path:code>/", views.kit_detail, name="kit-detail"),
]
