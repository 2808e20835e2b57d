from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from registry.images import process_image


class ProcessedImageForm(forms.ModelForm):
    """An admin form (the admin supplies the model and the fields) for a model with an
    uploaded image and the thumbnail made from it, named `image` and `thumbnail` unless
    told otherwise. What is stored is never the upload but what process_image makes of it."""

    image_field = "image"
    thumbnail_field = "thumbnail"

    def clean(self):
        cleaned_data = super().clean()
        upload = cleaned_data.get(self.image_field)
        if isinstance(upload, UploadedFile):
            try:
                processed = process_image(upload)
            except ValidationError as error:
                self.add_error(self.image_field, error)
            else:
                cleaned_data[self.image_field] = processed.image
                setattr(self.instance, self.thumbnail_field, processed.thumbnail)
        elif upload is False:  # "Clear" was ticked: the thumbnail goes with the image.
            setattr(self.instance, self.thumbnail_field, "")
        return cleaned_data


class InstitutionForm(ProcessedImageForm):
    image_field = "logo"
    thumbnail_field = "logo_thumbnail"
