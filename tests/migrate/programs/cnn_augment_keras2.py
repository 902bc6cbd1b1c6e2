# A Keras 1/2 CNN trained on augmented MNIST through fit_generator (keraslab's own test corpus).
from keras.datasets import mnist
from keras.models import Sequential
from keras.layers.convolutional import Convolution2D, MaxPooling2D
from keras.layers.core import Dense, Flatten
from keras.preprocessing.image import ImageDataGenerator
from keras.utils.np_utils import to_categorical

(x_train, y_train), _ = mnist.load_data()
x = x_train[:256].reshape(256, 28, 28, 1).astype('float32') / 255
y = to_categorical(y_train[:256], 10)

model = Sequential()
model.add(Convolution2D(8, 3, 3, border_mode='same', subsample=(2, 2), activation='relu',
                        input_shape=(28, 28, 1)))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(10, activation='softmax'))
model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])

datagen = ImageDataGenerator(rotation_range=10, width_shift_range=0.1,
                             featurewise_center=True, featurewise_std_normalization=True)
datagen.fit(x)
history = model.fit_generator(datagen.flow(x, y, batch_size=32, seed=0), steps_per_epoch=4, epochs=1,
                              workers=1, use_multiprocessing=False)
score = model.evaluate_generator(datagen.flow(x, y, batch_size=64, shuffle=False), 2)
