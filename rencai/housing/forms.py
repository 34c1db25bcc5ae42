from django import forms
from django.core.files.uploadedfile import UploadedFile

from rencai.errors import ServiceError
from rencai.housing.models import HousingPicture
from rencai.housing.pictures import ACCEPT_ATTR, check_picture


class PictureAdminForm(forms.ModelForm):
    """The admin's picture upload: the content must be the picture its extension says
    (``check_picture``); what is stored about the file comes from the check."""

    class Meta:
        model = HousingPicture
        fields = ["kind", "file", "caption", "order"]
        widgets = {"file": forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTR})}

    def clean_file(self):
        uploaded = self.cleaned_data.get("file")
        if isinstance(uploaded, UploadedFile):  # a new upload, not the stored file
            try:
                checked = check_picture(uploaded)
            except ServiceError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
            self.instance.original_name = checked.original_name
            self.instance.content_type = checked.content_type
            self.instance.size = checked.size
            self.instance.sha256 = checked.sha256
        return uploaded
